# ruff: noqa: E501 - the catalogue table reads best one trim pair per line
"""The seed catalogue: the brands and series of the Shanghai joint venture (DESIGN §6).

Prices are list prices in yuan of the period. :func:`seed_catalogue` only adds what
is missing, so running it again never overwrites HQ's later edits.
"""

from __future__ import annotations

from decimal import Decimal

from sqlmodel import Session, select

from portal.models import Brand, CarModel, CatalogueRule
from portal.services.catalogue import (
    ITEM_TABLES,
    build_spec,
    publish,
    spec_payload,
)

COLOURS = {
    "black": ("墨晶黑", "Carbon Black", 0),
    "white": ("典雅白", "Olympic White", 0),
    "silver": ("闪光银", "Sterling Silver", 0),
    "grey": ("深灰", "Graphite Grey", 0),
    "red": ("热情红", "Victory Red", 0),
    "blue": ("宝石蓝", "Sapphire Blue", 0),
    "champagne": ("香槟金", "Champagne Gold", 1000),
    "pearl": ("珍珠白", "Pearl White", 3000),
}

OPTIONS = {
    "leather": ("真皮座椅", "Leather seats", 6000),
    "sunroof": ("电动天窗", "Power sunroof", 5000),
    "nav": ("GPS 导航系统", "Navigation system", 8800),
    "xenon": ("氙气大灯", "Xenon headlamps", 3500),
    "rear_dvd": ("后排娱乐系统", "Rear-seat DVD", 7500),
    "alloy16": ("16 英寸铝合金轮毂", "16-inch alloy wheels", 2800),
    "auto_ac": ("自动空调", "Automatic air conditioning", 2500),
    "parking": ("倒车雷达", "Parking sensors", 1200),
    "bose": ("Bose 音响系统", "Bose audio system", 9800),
    "panorama": ("全景天窗", "UltraView panoramic roof", 12000),
    "roof_rack": ("车顶行李架", "Roof rack", 1800),
}

# brand code, zh, en, models: (code, zh, en, trims, colours, options, rules)
# trims: (code, zh, en, price); rules: (kind, subject ref, target ref)
CATALOGUE = [
    ("BUICK", "别克", "Buick", [
        ("LACROSSE", "君越", "LaCrosse",
         [("24E", "2.4L 精英版", "2.4L Elite", 199800), ("24L", "2.4L 豪华版", "2.4L Luxury", 229800),
          ("30F", "3.0L 旗舰版", "3.0L Flagship", 289800)],
         ["black", "white", "silver", "champagne", "pearl"],
         ["leather", "sunroof", "nav", "xenon", "parking"],
         [("requires", "option:leather", "trim:24L"), ("requires", "option:leather", "trim:30F"),
          ("not_offered", "option:nav", "trim:24E"), ("not_offered", "colour:pearl", "trim:24E")]),
        ("REGAL", "君威", "Regal",
         [("20C", "2.0L 舒适版", "2.0L Comfort", 169800), ("24L", "2.4L 豪华版", "2.4L Luxury", 199800),
          ("20T", "2.0T GS 运动版", "2.0T GS Sport", 229800)],
         ["black", "white", "silver", "red", "grey"],
         ["leather", "sunroof", "nav", "alloy16"],
         [("requires", "option:leather", "trim:24L"), ("requires", "option:leather", "trim:20T"),
          ("not_offered", "colour:red", "trim:20C")]),
        ("GL8", "GL8 陆上公务舱", "GL8",
         [("24C", "2.4L 舒适型", "2.4L Comfort", 239800), ("24L", "2.4L", "2.4L", 269800),
          ("30G", "3.0L 豪华型", "3.0L Luxury", 329800)],
         ["black", "white", "silver", "champagne", "pearl"],
         ["leather", "sunroof", "nav", "rear_dvd", "roof_rack"],
         [("requires", "option:leather", "trim:24L"), ("not_offered", "option:leather", "trim:30G"),
          ("excludes", "option:nav", "option:rear_dvd"), ("not_offered", "colour:pearl", "trim:24C")]),
        ("EXCELLE", "凯越", "Excelle",
         [("16E", "1.6L LE 手动", "1.6L LE manual", 109800), ("16X", "1.6L LX 自动", "1.6L LX automatic", 119800),
          ("18S", "1.8L LS 自动", "1.8L LS automatic", 139800)],
         ["black", "white", "silver", "red", "blue"],
         ["leather", "sunroof", "auto_ac", "parking"],
         [("requires", "option:leather", "trim:18S"), ("not_offered", "option:sunroof", "trim:16E")]),
    ]),
    ("CHEVROLET", "雪佛兰", "Chevrolet", [
        ("EPICA", "景程", "Epica",
         [("18S", "1.8L SE", "1.8L SE", 129800), ("20X", "2.0L SX", "2.0L SX", 149800),
          ("25L", "2.5L LX", "2.5L LX", 179800)],
         ["black", "white", "silver", "grey", "blue"],
         ["leather", "sunroof", "nav", "parking"],
         [("requires", "option:leather", "trim:25L"), ("requires", "option:nav", "option:sunroof")]),
        ("AVEO", "乐风", "Aveo",
         [("14S", "1.4L SE", "1.4L SE", 76800), ("16S", "1.6L SX", "1.6L SX", 88800)],
         ["black", "white", "silver", "red", "blue"],
         ["sunroof", "alloy16", "auto_ac"],
         [("not_offered", "option:sunroof", "trim:14S")]),
        ("LOVA", "乐骋", "Lova",
         [("14S", "1.4L SE", "1.4L SE", 79800), ("16S", "1.6L SX", "1.6L SX", 92800)],
         ["black", "white", "silver", "red"],
         ["sunroof", "alloy16", "parking"],
         [("requires", "option:alloy16", "trim:16S")]),
        ("SAIL", "赛欧", "Sail",
         [("16L", "1.6L SL", "1.6L SL", 69800), ("16X", "1.6L SLX", "1.6L SLX", 79800)],
         ["black", "white", "silver", "red"],
         ["auto_ac", "parking"],
         [("not_offered", "option:auto_ac", "trim:16L")]),
    ]),
    ("CADILLAC", "凯迪拉克", "Cadillac", [
        ("CTS", "CTS", "CTS",
         [("28", "2.8L 精英型", "2.8L Elite", 369000), ("36", "3.6L 豪华型", "3.6L Luxury", 469000)],
         ["black", "white", "silver", "red", "pearl"],
         ["nav", "bose", "panorama", "xenon"],
         [("requires", "option:panorama", "trim:36"), ("requires", "option:bose", "option:nav")]),
        ("SRX", "SRX", "SRX",
         [("36", "3.6L V6", "3.6L V6", 498000), ("46", "4.6L V8", "4.6L V8", 698000)],
         ["black", "white", "silver", "champagne"],
         ["nav", "bose", "panorama", "rear_dvd", "roof_rack"],
         [("excludes", "option:panorama", "option:roof_rack")]),
        ("XLR", "XLR", "XLR",
         [("46", "4.6L V8 敞篷跑车", "4.6L V8 roadster", 1198000)],
         ["black", "silver", "red", "pearl"],
         ["nav", "bose"],
         []),
    ]),
    ("SAAB", "萨博", "Saab", [
        ("93", "9-3", "9-3",
         [("20L", "2.0T Linear", "2.0T Linear", 299900), ("20V", "2.0T Vector", "2.0T Vector", 339900)],
         ["black", "white", "silver", "blue"],
         ["leather", "sunroof", "nav", "xenon"],
         [("requires", "option:xenon", "trim:20V")]),
        ("95", "9-5", "9-5",
         [("23A", "2.3T Arc", "2.3T Arc", 389900), ("23V", "2.3T Vector", "2.3T Vector", 429900)],
         ["black", "white", "silver", "grey"],
         ["leather", "sunroof", "nav"],
         [("requires", "option:nav", "trim:23V")]),
    ]),
]


def seed_catalogue(session: Session) -> int:
    """Add the missing brands, models, trims, colours, options and rules; return how many."""
    added = 0
    for sort, (code, zh, en, series) in enumerate(CATALOGUE):
        brand, created = _get_or_add(session, Brand, {"code": code},
                                     {"name_zh": zh, "name_en": en, "sort": sort})
        added += created
        for model_sort, entry in enumerate(series):
            added += _seed_model(session, brand.id, model_sort, *entry)
    session.flush()
    return added


def _seed_model(session, brand_id, sort, code, zh, en, trims, colours, options, rules) -> int:
    model, added = _get_or_add(session, CarModel, {"brand_id": brand_id, "code": code},
                               {"name_zh": zh, "name_en": en, "sort": sort})
    items = [("trim", t[0], t[1], t[2], t[3]) for t in trims]
    items += [("colour", c, *COLOURS[c]) for c in colours]
    items += [("option", o, *OPTIONS[o]) for o in options]
    for item_sort, (kind, item_code, name_zh, name_en, price) in enumerate(items):
        added += _get_or_add(session, ITEM_TABLES[kind], {"model_id": model.id, "code": item_code},
                             {"name_zh": name_zh, "name_en": name_en, "price": Decimal(price),
                              "sort": item_sort})[1]
    for kind, subject, target in rules:
        added += _get_or_add(session, CatalogueRule, {"model_id": model.id, "kind": kind,
                                                      "subject": subject, "target": target}, {})[1]
    if added:
        session.flush()
        spec = build_spec(session=session, model_id=model.id)
        publish(session, dealer_id=None, kind="catalogue", payload=spec_payload(spec))
    return added


def _get_or_add(session: Session, table, key: dict, values: dict) -> tuple[object, int]:
    row = session.exec(select(table).filter_by(**key)).first()
    if row is not None:
        return row, 0
    row = table(**key, **values)
    session.add(row)
    session.flush()
    return row, 1
