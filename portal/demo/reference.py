"""Static reference data the demo generator draws from: regions, cities, products, parts, names.

Brands, models, trims and colours come from HQ's seed catalogue
(:mod:`portal.services.catalogue_seed`) under their English names, so sales match the
catalogue; people, places and free text are Chinese, as a dealership would capture them.
"""

from __future__ import annotations

from dataclasses import dataclass

from portal.services.catalogue_seed import CATALOGUE
from portal.services.catalogue_seed import COLOURS as CATALOGUE_COLOURS


@dataclass(frozen=True)
class City:
    code: str  # two letters that start the dealer codes (SH001)
    zh: str
    en: str
    area_code: str  # landline prefix
    postcode: str  # first three digits of the city's postcodes
    districts: tuple[str, ...]


@dataclass(frozen=True)
class Region:
    code: str
    zh: str
    en: str
    cities: tuple[City, ...]


REGIONS: tuple[Region, ...] = (
    Region("EAST", "华东", "East", (
        City("SH", "上海", "Shanghai", "021", "200", ("浦东新区", "徐汇区", "闵行区", "静安区")),
        City("HZ", "杭州", "Hangzhou", "0571", "310", ("西湖区", "滨江区", "拱墅区")),
        City("NJ", "南京", "Nanjing", "025", "210", ("鼓楼区", "江宁区", "建邺区")),
        City("SU", "苏州", "Suzhou", "0512", "215", ("姑苏区", "工业园区", "吴中区")),
        City("NB", "宁波", "Ningbo", "0574", "315", ("鄞州区", "海曙区", "江北区")),
    )),
    Region("NORTH", "华北", "North", (
        City("BJ", "北京", "Beijing", "010", "100", ("朝阳区", "海淀区", "丰台区", "大兴区")),
        City("TJ", "天津", "Tianjin", "022", "300", ("河西区", "南开区", "滨海新区")),
        City("SJ", "石家庄", "Shijiazhuang", "0311", "050", ("长安区", "桥西区", "裕华区")),
        City("TY", "太原", "Taiyuan", "0351", "030", ("小店区", "迎泽区", "杏花岭区")),
        City("JN", "济南", "Jinan", "0531", "250", ("历下区", "市中区", "槐荫区")),
    )),
    Region("SOUTH", "华南", "South", (
        City("GZ", "广州", "Guangzhou", "020", "510", ("天河区", "白云区", "番禺区", "海珠区")),
        City("SZ", "深圳", "Shenzhen", "0755", "518", ("南山区", "福田区", "龙岗区")),
        City("XM", "厦门", "Xiamen", "0592", "361", ("思明区", "湖里区", "集美区")),
        City("FZ", "福州", "Fuzhou", "0591", "350", ("鼓楼区", "仓山区", "晋安区")),
        City("NN", "南宁", "Nanning", "0771", "530", ("青秀区", "西乡塘区", "兴宁区")),
    )),
    Region("WEST", "西部", "West", (
        City("CD", "成都", "Chengdu", "028", "610", ("武侯区", "锦江区", "高新区", "成华区")),
        City("CQ", "重庆", "Chongqing", "023", "400", ("渝北区", "江北区", "九龙坡区")),
        City("XA", "西安", "Xi'an", "029", "710", ("雁塔区", "未央区", "碑林区")),
        City("KM", "昆明", "Kunming", "0871", "650", ("五华区", "盘龙区", "官渡区")),
        City("LZ", "兰州", "Lanzhou", "0931", "730", ("城关区", "七里河区", "安宁区")),
    )),
    Region("CENTRAL", "华中", "Central", (
        City("WH", "武汉", "Wuhan", "027", "430", ("武昌区", "江汉区", "洪山区", "汉阳区")),
        City("CS", "长沙", "Changsha", "0731", "410", ("岳麓区", "芙蓉区", "雨花区")),
        City("ZZ", "郑州", "Zhengzhou", "0371", "450", ("金水区", "二七区", "中原区")),
        City("NC", "南昌", "Nanchang", "0791", "330", ("红谷滩区", "东湖区", "青山湖区")),
        City("HF", "合肥", "Hefei", "0551", "230", ("蜀山区", "包河区", "庐阳区")),
    )),
)

# Dealer groups that run four-in-one (sales, service, parts, survey) stores: (zh, en)
DEALER_GROUPS: tuple[tuple[str, str], ...] = (
    ("永达", "Yongda"), ("申华", "Shenhua"), ("广汇", "Guanghui"), ("庞大", "Pangda"),
    ("中升", "Zhongsheng"), ("利星行", "Lei Shing Hong"), ("恒信", "Hengxin"),
    ("大昌行", "Dah Chong Hong"), ("元通", "Yuantong"), ("物产", "Wuchan"), ("润华", "Runhua"),
    ("华晨", "Huachen"), ("东昌", "Dongchang"), ("亚夏", "Yaxia"), ("正通", "Zhengtong"),
)


@dataclass(frozen=True)
class Trim:
    name: str
    price: int  # CNY, list price
    engine: str  # engine code, prefix of the engine number


@dataclass(frozen=True)
class CarModel:
    brand: str
    name: str
    zh: str
    wmi: str  # world manufacturer identifier (VIN positions 1-3)
    vds: str  # vehicle descriptor (VIN positions 4-8)
    plant: str  # VIN position 11
    weight: int  # share of sales
    trims: tuple[Trim, ...]
    colours: tuple[str, ...]


# What the catalogue does not hold, by English model name: VIN parts and share of sales.
VIN_PARTS: dict[str, tuple[str, str, str, int]] = {
    "LaCrosse": ("LSG", "GU54L", "S", 14), "Regal": ("LSG", "GB54R", "S", 12),
    "GL8": ("LSG", "UL84G", "S", 9), "Excelle": ("LSG", "JA52E", "Y", 16),
    "Epica": ("LSG", "VD54C", "S", 8), "Aveo": ("LSG", "TA52F", "Y", 10),
    "Lova": ("LSG", "TB52L", "Y", 8), "Sail": ("LSG", "SA51S", "Y", 13),
    "CTS": ("LSG", "DA54C", "S", 4), "SRX": ("1GY", "EE637", "F", 3),
    "XLR": ("1G6", "YV34A", "B", 1), "9-3": ("YS3", "FD49Y", "1", 1),
    "9-5": ("YS3", "ED45E", "1", 1),
}
ENGINES = {"1.4L": "F14D3", "1.6L": "F16D3", "1.8L": "T18SED", "2.0L": "LTD", "2.0T": "B207",
           "2.3T": "B235", "2.4L": "LE5", "2.5L": "X25D1", "2.8L": "LP1", "3.0L": "LF1",
           "3.6L": "LY7", "4.6L": "LH2"}


def _models_from_catalogue() -> tuple[CarModel, ...]:
    """Brands, models, trims and colours as HQ's seed catalogue names them (English names)."""
    models = []
    for _code, _zh, brand, series in CATALOGUE:
        for _mcode, zh, name, trims, colours, *_rest in series:
            if name not in VIN_PARTS:
                continue
            wmi, vds, plant, weight = VIN_PARTS[name]
            models.append(CarModel(
                brand, name, zh, wmi, vds, plant, weight,
                tuple(Trim(en, price, ENGINES.get(en[:4], "LE5")) for _c, _z, en, price in trims),
                tuple(CATALOGUE_COLOURS[c][1] for c in colours)))
    return tuple(models)


MODELS: tuple[CarModel, ...] = _models_from_catalogue()

# VIN position 10: model year code, cycling every 30 years from 1980 (A).
YEAR_CODES = "ABCDEFGHJKLMNPRSTVWXY123456789"


@dataclass(frozen=True)
class PartSpec:
    base: int  # part numbers are eight digits: base + offset of the model
    name: str
    qty: tuple[int, int]
    price: int  # CNY per unit


PARTS: dict[str, PartSpec] = {
    "oil": PartSpec(93740100, "机油 5W-30 (升)", (4, 5), 68),
    "oil_filter": PartSpec(93745800, "机油滤清器", (1, 1), 45),
    "air_filter": PartSpec(96553400, "空气滤清器", (1, 1), 85),
    "cabin_filter": PartSpec(13271100, "空调滤芯", (1, 1), 95),
    "spark_plug": PartSpec(12620500, "火花塞", (4, 4), 60),
    "brake_pads": PartSpec(22775900, "前刹车片 (套)", (1, 1), 480),
    "brake_disc": PartSpec(22830300, "前刹车盘", (2, 2), 620),
    "battery": PartSpec(24447800, "蓄电池", (1, 1), 720),
    "wiper": PartSpec(25900200, "雨刮片", (2, 2), 90),
    "tyre": PartSpec(19300600, "轮胎", (1, 4), 850),
    "belt": PartSpec(24104200, "发动机皮带", (1, 1), 260),
    "compressor": PartSpec(13250600, "空调压缩机", (1, 1), 3800),
    "o2_sensor": PartSpec(12578500, "氧传感器", (1, 1), 560),
    "bumper": PartSpec(96648600, "前保险杠", (1, 1), 1800),
    "headlamp": PartSpec(25999300, "前大灯总成", (1, 1), 2600),
}


@dataclass(frozen=True)
class Job:
    complaint: str
    work: str
    parts: tuple[str, ...]
    hours: tuple[float, float]
    warranty_eligible: bool
    weight: int


JOBS: tuple[Job, ...] = (
    Job("定期保养", "更换机油、机油滤清器，常规检查", ("oil", "oil_filter"), (0.8, 1.2), False, 40),
    Job("大保养", "更换机油、三滤、火花塞，全车检查",
        ("oil", "oil_filter", "air_filter", "cabin_filter", "spark_plug"), (1.5, 2.5), False, 14),
    Job("刹车异响", "更换前刹车片，检查刹车盘", ("brake_pads",), (1.0, 1.5), True, 9),
    Job("刹车抖动", "更换前刹车盘及刹车片", ("brake_disc", "brake_pads"), (1.5, 2.5), True, 4),
    Job("车辆无法启动", "检测充电系统，更换蓄电池", ("battery",), (0.5, 1.0), True, 6),
    Job("空调不制冷", "检测空调系统，更换压缩机并加注冷媒", ("compressor",), (3.0, 5.0), True, 3),
    Job("雨刮刮不干净", "更换雨刮片", ("wiper",), (0.2, 0.4), False, 5),
    Job("轮胎磨损严重", "更换轮胎并做四轮定位", ("tyre",), (0.8, 1.5), False, 6),
    Job("发动机异响", "检查并更换发动机皮带", ("belt",), (1.0, 2.0), True, 4),
    Job("发动机故障灯亮", "读取故障码，更换氧传感器", ("o2_sensor",), (1.0, 2.0), True, 5),
    Job("前部碰撞", "钣金修复，更换前保险杠、前大灯，喷漆",
        ("bumper", "headlamp"), (6.0, 12.0), False, 4),
)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
)
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强文辉海燕鹏飞晓东春梅红梅"
    "俊杰子涵欣怡浩然宇轩雨婷思远佳怡博文一鸣婉婷嘉豪梓萱晨阳雪梅立新建华玉兰德明家豪"
)
MOBILE_PREFIXES = (
    "130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "153",
    "155", "156", "157", "158", "159", "166", "177", "180", "181", "182", "183", "185", "186",
    "187", "188", "189", "199",
)
ROADS = (
    "人民路", "解放路", "中山路", "建设路", "南京路", "长江路", "黄河路", "和平路", "新华路",
    "友谊路", "光明路", "文化路", "科技路", "世纪大道", "滨江大道", "东风路", "青年路",
)
COMPANY_WORDS = ("华信", "宏达", "鑫源", "恒通", "中联", "金桥", "瑞丰", "嘉和", "天成", "兴业")
COMPANY_TRADES = ("贸易", "物流", "建筑工程", "科技", "餐饮管理", "房地产开发", "医药", "电子")

CONTACT_OUTCOMES = {
    "post_sale": ("客户对新车满意", "讲解车辆功能，客户满意", "提醒首保时间",
                  "客户反馈油耗偏高，已解释"),
    "periodic": ("提醒保养，客户已预约", "客户近期无需求", "邀请参加车主活动", "客户电话未接通",
                 "推荐延保服务", "客户询问置换政策"),
    "lead": ("介绍车型及价格", "邀请到店试驾", "发送车型资料", "客户比较竞品，继续跟进",
             "已预约到店", "客户暂不考虑"),
}
COMPLAINT_CATEGORIES = (
    ("服务态度", "接待人员态度冷淡，等待时间过长"),
    ("维修质量", "维修后问题再次出现，需要返修"),
    ("交车延误", "约定的交车时间一再推迟"),
    ("配件缺货", "所需配件迟迟不到货，车辆无法使用"),
    ("价格争议", "维修费用与报价不符"),
    ("车辆质量", "新车出现异响，要求检查"),
)
RESOLUTIONS = (
    "已向客户道歉并赠送保养券", "免费返修，客户认可", "已协调配件加急到货",
    "退还差价，客户满意", "经检测属正常现象，已向客户解释",
)
