"""The book's one visual language: a colour per actor, a colour per theme, one Altair theme.

Colours come from the Okabe–Ito and Paul Tol palettes, both designed to stay
distinguishable with the common forms of colour blindness. An actor keeps its
colour in every chapter, so Russia is the same vermilion on every chart.
"""

from __future__ import annotations

import re

import altair as alt

#: One colour per actor, fixed across the book. Russia keeps Okabe–Ito's vermilion, Armenia its
#: blue and Azerbaijan its bluish green; the others were chosen so that every colour reaches 3:1
#: against the white page (WCAG 1.4.11) and any two stay apart (CIEDE2000), also as seen with
#: deuteranopia, protanopia and tritanopia (tests/test_package.py checks both).
ACTOR_COLOURS: dict[str, str] = {
    "Russia": "#D55E00",  # vermilion
    "Armenia": "#0072B2",  # blue
    "Azerbaijan": "#009E73",  # bluish green
    "Turkey": "#C818B0",  # magenta
    "Iran": "#907850",  # taupe
    "Georgia": "#885008",  # brown
    "EU and the West": "#684080",  # purple
    "India": "#A868F8",  # lavender
    "France": "#1A237E",  # navy
    "Ukraine": "#8890B8",  # steel blue
    "Israel": "#006038",  # dark green
    "Belarus": "#661100",  # dark red
    "Others": "#767676",  # grey
    "Moldova": "#5818F8",  # violet blue (trade chapter)
}

#: ISO 3166-1 alpha-3 codes of the actors that are states, for maps.
ACTOR_ISO3: dict[str, str] = {
    "Russia": "RUS",
    "Armenia": "ARM",
    "Azerbaijan": "AZE",
    "Turkey": "TUR",
    "Iran": "IRN",
    "Georgia": "GEO",
    "India": "IND",
    "France": "FRA",
    "Ukraine": "UKR",
    "Israel": "ISR",
    "Belarus": "BLR",
    "Moldova": "MDA",
}


def actor_of(iso3: str) -> str:
    """The actor a state belongs to for colouring ('Others' for states without a book colour)."""
    return {iso: actor for actor, iso in ACTOR_ISO3.items()}.get(iso3, "Others")


#: One colour per theme of the book, for timelines (Paul Tol's muted scheme, its light colours
#: darkened or replaced to reach 3:1 against white; none close to an actor's colour).
THEME_COLOURS: dict[str, str] = {
    "war": "#CC6677",
    "peacekeeping": "#0C6C7E",  # petrol (was an indigo next to France's navy)
    "military-presence": "#882255",
    "ukraine": "#403808",
    "csto": "#606C42",  # olive drab (was a green, the hue of Azerbaijan and Israel)
    "icc": "#7070C0",
    "trade": "#909018",
    "diplomacy": "#00A0A0",
}

THEME_LABELS: dict[str, str] = {
    "war": "War and offensives",
    "peacekeeping": "Peacekeeping",
    "military-presence": "Russian military presence",
    "ukraine": "War in Ukraine",
    "csto": "CSTO",
    "icc": "ICC",
    "trade": "Trade pressure",
    "diplomacy": "Diplomacy",
}

#: Land fill for states that are not actors on a map, and the sea.
NEUTRAL_LAND = "#EEEEEA"
SEA = "#FFFFFF"
INK = "#222222"
MUTED_INK = "#555555"

FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: Width of a chart's plotting area that fits the book's text column.
WIDTH = 560
HEIGHT = 300
#: Room the left axis labels of a chart with long category names take.
LABEL_ROOM = 150


def actor_scale(actors=None) -> alt.Scale:
    """An Altair colour scale giving each actor its book-wide colour.

    ``actors`` may be any collection of the actors a chart shows (a column, with
    repeats): the legend lists them once each, in the book's order of actors.
    """
    present = set(actors) if actors is not None else set(ACTOR_COLOURS)
    unknown = sorted(present - set(ACTOR_COLOURS))
    if unknown:
        raise KeyError(
            f"no book colour for {unknown}; use one of {list(ACTOR_COLOURS)} (or 'Others')"
        )
    names = [a for a in ACTOR_COLOURS if a in present]
    return alt.Scale(domain=names, range=[ACTOR_COLOURS[a] for a in names])


#: Words that tie a claimant (a ministry, an official, an outlet) to the side it speaks for.
CLAIMANT_KEYWORDS = {
    "Armenia": ("Armenia", "Armenian", "Karabakh", "Pashinyan"),
    "Azerbaijan": ("Azerbaijan", "Azerbaijani", "Aliyev"),
    "Russia": ("Russia", "Russian", "Kremlin", "RT editor"),
}


def actor_of_claimant(claimant: str) -> str:
    """The side a claim speaks for, read from the claimant's name ('Others' if none fits).

    Used to colour disputed figures by who claims them; the first matching side wins,
    so "Armenian parliament speaker" is Armenia even when the claim is about Azerbaijan.
    """
    for actor, words in CLAIMANT_KEYWORDS.items():
        if any(word in claimant for word in words):
            return actor
    return "Others"


def theme_scale(themes=None) -> alt.Scale:
    """An Altair colour scale for the book's themes (used by timelines)."""
    names = list(themes) if themes is not None else list(THEME_COLOURS)
    return alt.Scale(domain=names, range=[THEME_COLOURS[t] for t in names])


@alt.theme.register("afterkarabakh", enable=False)
def book_theme() -> alt.theme.ThemeConfig:
    """Fonts, sizes and widths that fit the page; quiet axes; left-aligned titles."""
    return {
        "config": {
            "font": FONT,
            "background": "white",
            "view": {"continuousWidth": WIDTH, "continuousHeight": HEIGHT, "stroke": None},
            "title": {
                "anchor": "start",
                "fontSize": 16,
                "fontWeight": 600,
                "color": INK,
                "subtitleFontSize": 12,
                "subtitleColor": MUTED_INK,
                "offset": 10,
            },
            "axis": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "titleFontWeight": 500,
                "labelColor": MUTED_INK,
                "titleColor": INK,
                "gridColor": "#E6E6E6",
                "domainColor": "#888888",
                "tickColor": "#888888",
                # Labels closer than this count as overlapping, so Vega thins them (every other
                # one) instead of running them together on a narrow chart.
                "labelSeparation": 4,
            },
            "legend": {
                "labelFontSize": 11,
                "titleFontSize": 12,
                "orient": "bottom",
                "direction": "horizontal",
                "symbolOpacity": 1,
                # Two legends under one chart stand one above the other, not side by side (which
                # would widen the chart past its column).
                "layout": {"bottom": {"anchor": "start", "direction": "vertical"}},
            },
            "header": {"labelFontSize": 12, "titleFontSize": 12},
            "range": {"category": list(ACTOR_COLOURS.values())},
            "text": {"fontSize": 11, "color": INK},
            "concat": {"spacing": 6},
        }
    }


def enable() -> None:
    """Switch the book's theme on (idempotent)."""
    alt.theme.enable("afterkarabakh")


#: Colours for series that are not actors or themes (e.g. survey questions), in order of use:
#: the theme colours, so they pass the same contrast and distance checks.
SERIES_COLOURS: list[str] = [
    THEME_COLOURS[k]
    for k in (
        "csto",
        "war",
        "peacekeeping",
        "icc",
        "military-presence",
        "ukraine",
        "diplomacy",
        "trade",
    )
]

#: One colour per verdict on a proposition (the conclusion's chart); each reaches 3:1 on white
#: and stays apart from the others, also with colour-vision deficiencies (tests/test_package.py).
VERDICT_COLOURS: dict[str, str] = {
    "supported": "#006E8A",  # petrol blue
    "partly supported": "#9A7000",  # ochre
    "contradicted": "#C0305A",  # rose
    "overtaken by events": "#6054CC",  # violet, apart from Moldova's
    "cannot be tested with these data": "#929292",  # light grey (Others keep #767676)
}


# --- Colours of statuses (what a state's standing or a change was) ------------------------------
# A colour that means something other than an actor never looks like an actor's colour (CIEDE2000
# at least OTHER_MEANING_DISTANCE from each, unless it is that actor's own colour standing for it),
# and the colours one chart shows together stay apart, also as seen with deuteranopia, protanopia
# and tritanopia (tests/test_package.py checks both, with Machado et al.'s simulation).

#: Smallest CIEDE2000 difference (normal vision) between an actor's colour and one of another meaning.
OTHER_MEANING_DISTANCE = 10.0

#: CSTO membership statuses, in the order legends list them: the CSTO theme's olive for members,
#: a light tint of it for signatories, Armenia's own blue for its frozen participation, greys for
#: states that suspended or left (the map of 2026 and the membership bars).
CSTO_STATUS_COLOURS: dict[str, str] = {
    "Signatory (treaty not yet in force)": "#A0AE5E",
    "Member": THEME_COLOURS["csto"],
    "Participation frozen": ACTOR_COLOURS["Armenia"],
    "Membership suspended (2012)": "#3A3A3A",
    "Left (1999)": "#A8A8A8",
}

#: States on the ICC chapter's world map, by their standing towards the Rome Statute (light fills,
#: Armenia in its own blue, withdrawals in a dark red the withdrawal lines of the count chart share).
ICC_STATE_COLOURS: dict[str, str] = {
    "Armenia (state party from 2024)": ACTOR_COLOURS["Armenia"],
    "State party": "#88CCEE",
    "Withdrawal announced": "#DDCC77",
    "Withdrawn": "#6C0024",
    "Not a party, hosted Putin": "#AAAAAA",
    "Never a party": NEUTRAL_LAND,
}
#: The host's standing on the day of one of Putin's visits (points and bars): red, a state party.
ICC_HOST_COLOURS: dict[str, str] = {"state party": "#CC1806", "not a party": "#444444"}

#: Landmark changes of Russia's military presence: Russia's own colour where it arrived or grew,
#: a grey where it shrank or left.
PRESENCE_CHANGE_COLOURS: dict[str, str] = {
    "arrived or grew": ACTOR_COLOURS["Russia"],
    "shrank or left": "#555555",
}

#: Territory two states claim, drawn apart from both (maps.DISPUTED): an orchid no actor or
#: status has, apart from every fill of the maps that draw it.
DISPUTED_FILL = "#BA84B4"
#: A light shade behind a period (e.g. the re-export boom) and the land of states a map does not colour.
SHADE = "#EEEEEE"


# --- Dark mode -----------------------------------------------------------------------------------
# The book follows the page's colour mode (the PyData theme's light and dark). In dark mode a chart
# is drawn on the page's own dark background, its text and lines light; each actor keeps one colour,
# the same as in light mode unless that colour is too dark to read on the dark page, in which case
# its dark variant below is used (each reaches 3:1 against DARK_BACKGROUND and stays apart from the
# rest of its palette, also with colour-vision deficiencies: tests/test_package.py checks both).

#: The dark page's background (the book theme's, under the PyData theme), and the ink drawn on it.
DARK_BACKGROUND = "#121212"
DARK_INK = "#E3E8EC"
DARK_MUTED_INK = "#A9B1BB"

DARK_ACTOR_COLOURS: dict[str, str] = {
    **ACTOR_COLOURS,
    "Georgia": "#C69B51",
    "EU and the West": "#765D84",
    "France": "#B36B95",
    "Israel": "#517058",
    "Belarus": "#E27984",
    "Moldova": "#F37EF6",
}
DARK_THEME_COLOURS: dict[str, str] = {
    **THEME_COLOURS,
    "military-presence": "#C72532",
    "ukraine": "#DBC77B",
    "csto": "#697351",
}
DARK_SERIES_COLOURS: list[str] = [
    DARK_THEME_COLOURS[k] for s in SERIES_COLOURS for k, c in THEME_COLOURS.items() if c == s
]
DARK_VERDICT_COLOURS: dict[str, str] = dict(VERDICT_COLOURS)  # each reads on the dark page as it is

#: The theme's own neutrals: background, ink, axis lines and grid, land and sea.
_DARK_NEUTRALS = {
    "#FFFFFF": DARK_BACKGROUND,
    "WHITE": DARK_BACKGROUND,
    INK: DARK_INK,
    MUTED_INK: DARK_MUTED_INK,
    "#E6E6E6": "#2F3742",  # gridlines
    "#888888": "#7D8795",  # axis lines and ticks
    NEUTRAL_LAND: "#2B323C",
    "#EEEEEE": "#2B323C",
    "BLACK": DARK_INK,
    "#000000": DARK_INK,
}


def _srgb_to_lab(colour: str) -> tuple[float, float, float]:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    xyz = [
        (0.4124564 * lin[0] + 0.3575761 * lin[1] + 0.1804375 * lin[2]) / 0.95047,
        0.2126729 * lin[0] + 0.7151522 * lin[1] + 0.0721750 * lin[2],
        (0.0193339 * lin[0] + 0.1191920 * lin[1] + 0.9503041 * lin[2]) / 1.08883,
    ]
    f = [t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29 for t in xyz]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _lab_to_srgb(lab: tuple[float, float, float]) -> str | None:
    """The colour as #RRGGBB, or None when it lies outside sRGB."""
    lightness, a, b = lab
    fy = (lightness + 16) / 116
    f = (fy + a / 500, fy, fy - b / 200)
    x, y, z = (t**3 if t**3 > (6 / 29) ** 3 else 3 * (6 / 29) ** 2 * (t - 4 / 29) for t in f)
    x, z = x * 0.95047, z * 1.08883
    lin = [
        3.2404542 * x - 1.5371385 * y - 0.4985314 * z,
        -0.9692660 * x + 1.8760108 * y + 0.0415560 * z,
        0.0556434 * x - 0.2040259 * y + 1.0572252 * z,
    ]
    if min(lin) < -0.001 or max(lin) > 1.001:
        return None
    rgb = [
        12.92 * c if c <= 0.0031308 else 1.055 * c ** (1 / 2.4) - 0.055
        for c in (min(max(v, 0.0), 1.0) for v in lin)
    ]
    return "#" + "".join(f"{round(c * 255):02X}" for c in rgb)


def _luminance(colour: str) -> float:
    rgb = [int(colour.lstrip("#")[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def _contrast(colour: str, background: str) -> float:
    high, low = sorted((_luminance(colour), _luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


_DARK_EXPLICIT = {
    **{
        light.upper(): dark
        for palette, dark_palette in (
            (ACTOR_COLOURS, DARK_ACTOR_COLOURS),
            (THEME_COLOURS, DARK_THEME_COLOURS),
            (VERDICT_COLOURS, DARK_VERDICT_COLOURS),
        )
        for light, dark in zip(palette.values(), dark_palette.values())
    },
    **_DARK_NEUTRALS,
}


def dark_colour(colour: str) -> str:
    """A colour's counterpart on the dark page (the colour itself when it reads on both).

    The book's palettes and neutrals have fixed counterparts (above); any other grey has its
    lightness turned over (light fills become dark fills, dark ink light ink); any other colour
    that does not reach 3:1 against the dark background is lightened, keeping its hue.
    """
    key = colour.strip().upper()
    if key in _DARK_EXPLICIT:
        return _DARK_EXPLICIT[key]
    if len(key) == 4 and key.startswith("#"):
        key = "#" + "".join(c * 2 for c in key[1:])
    if not re.fullmatch(r"#[0-9A-F]{6}", key):
        return colour
    lightness, a, b = _srgb_to_lab(key)
    if (a * a + b * b) ** 0.5 < 8:  # a grey
        flipped = 8.3 + (100 - lightness) + 8 if lightness >= 80 else 100 - 0.9 * lightness
        return _lab_to_srgb((flipped, a, b)) or colour
    if _contrast(key, DARK_BACKGROUND) >= 3:
        return colour
    for step in range(1, 80):
        for chroma in (1.0, 0.9, 0.8, 0.7, 0.6, 0.5):
            candidate = _lab_to_srgb((lightness + step, a * chroma, b * chroma))
            if candidate and _contrast(candidate, DARK_BACKGROUND) >= 3.05:
                return candidate
    return DARK_INK


def dark_config() -> dict:
    """What a chart's configuration adds in dark mode (colours Vega would otherwise default to black)."""
    return {
        "background": DARK_BACKGROUND,
        "title": {"color": DARK_INK, "subtitleColor": DARK_MUTED_INK},
        "legend": {"labelColor": DARK_INK, "titleColor": DARK_INK},
        "header": {"labelColor": DARK_INK, "titleColor": DARK_INK},
        "axis": {
            "labelColor": DARK_MUTED_INK,
            "titleColor": DARK_INK,
            "gridColor": _DARK_NEUTRALS["#E6E6E6"],
            "domainColor": _DARK_NEUTRALS["#888888"],
            "tickColor": _DARK_NEUTRALS["#888888"],
        },
        "text": {"color": DARK_INK},
        "style": {"guide-label": {"fill": DARK_MUTED_INK}, "guide-title": {"fill": DARK_INK}},
    }
