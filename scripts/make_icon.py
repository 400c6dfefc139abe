"""Draw the project icon: icon.svg (for server.json and the web) and icon.png (512x512, what MCPB wants).

    uv run python scripts/make_icon.py          # rewrites both at the repository root

One geometry, two renderings: an orange rounded square with a white cloud and three model "nodes".
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

ROOT = Path(__file__).resolve().parents[1]
SIZE = 512
ORANGE = "#F38020"  # Cloudflare orange
DARK = "#7A3A06"
WHITE = "#FFFFFF"
CORNER = 96
# Cloud: circles (cx, cy, r) on a flat base (x0, y0, x1, y1).
CLOUD_CIRCLES = [(176, 276, 72), (268, 220, 100), (356, 284, 64)]
CLOUD_BASE = (104, 276, 420, 348)
# Nodes under the cloud, joined to it by short lines.
NODES = [(176, 412, 22), (256, 436, 22), (336, 412, 22)]


def svg() -> str:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SIZE}" height="{SIZE}" viewBox="0 0 {SIZE} {SIZE}">',
        "<title>workers-ai-mcp</title>",
        f'<rect width="{SIZE}" height="{SIZE}" rx="{CORNER}" fill="{ORANGE}"/>',
    ]
    for cx, cy, _ in NODES:
        parts.append(f'<line x1="{cx}" y1="348" x2="{cx}" y2="{cy}" stroke="{WHITE}" stroke-width="12"/>')
    for cx, cy, r in CLOUD_CIRCLES:
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{WHITE}"/>')
    x0, y0, x1, y1 = CLOUD_BASE
    rx = (y1 - y0) // 2
    parts.append(f'<rect x="{x0}" y="{y0}" width="{x1 - x0}" height="{y1 - y0}" rx="{rx}" fill="{WHITE}"/>')
    for cx, cy, r in NODES:
        parts.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="{WHITE}" stroke="{DARK}" stroke-width="8"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def png(path: Path, scale: int = 4) -> None:
    """Drawn at `scale` times the size, then reduced: smooth edges without an SVG renderer."""
    big = Image.new("RGBA", (SIZE * scale, SIZE * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)

    def s(*values: int) -> list[int]:
        return [v * scale for v in values]

    draw.rounded_rectangle(s(0, 0, SIZE - 1, SIZE - 1), radius=CORNER * scale, fill=ORANGE)
    for cx, cy, _ in NODES:
        draw.line(s(cx, 348, cx, cy), fill=WHITE, width=12 * scale)
    for cx, cy, r in CLOUD_CIRCLES:
        draw.ellipse(s(cx - r, cy - r, cx + r, cy + r), fill=WHITE)
    x0, y0, x1, y1 = CLOUD_BASE
    draw.rounded_rectangle(s(x0, y0, x1, y1), radius=(y1 - y0) // 2 * scale, fill=WHITE)
    for cx, cy, r in NODES:
        draw.ellipse(s(cx - r, cy - r, cx + r, cy + r), fill=WHITE, outline=DARK, width=8 * scale)
    big.resize((SIZE, SIZE), Image.Resampling.LANCZOS).save(path, optimize=True)


def main() -> int:
    (ROOT / "icon.svg").write_text(svg(), encoding="utf-8")
    png(ROOT / "icon.png")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
