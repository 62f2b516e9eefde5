#!/usr/bin/env python3
"""Deterministic generator of the sample case histories of one city, year 2020.

Writes ``samples/cases-2020.jsonl`` (one case per line, in the case-history
interchange format) and ``samples/README.md``, and prints a per-department
summary and the counts of the special scenarios planted in the data.

    python samples/generate.py

The output depends only on this file and on the official Chinese calendar
(``chinese_calendar``): a fixed random seed, no iteration over unordered
containers, no use of the current date.  Running it twice gives byte-identical
files.

The data mirror two real annual reports (see docs/domain.md): the market
regulation bureau (市市场监管局) handles 64 proposals, 26 answered as lead/split
(20 lead, 6 split) and 38 as co-handler, all on time and all rated satisfied;
the IP office (市知识产权局) handles 36 cases: 15 suggestions (5 lead) and 21
proposals (1 lead), face-to-face rate, satisfaction rate and publication rate
100%, one co-handled case still without an opinion.  The other departments differ
in diligence (exemplary / good / average / weak) so that scores spread.
"""
from __future__ import annotations

import calendar
import datetime as dt
import json
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

import chinese_calendar

SEED = 20200310
HERE = Path(__file__).resolve().parent
OUT = HERE / "cases-2020.jsonl"
README = HERE / "README.md"

# --------------------------------------------------------------------------
# departments and their diligence
# --------------------------------------------------------------------------

DEPTS: list[tuple[str, str, str]] = [
    # code, name, profile
    ("SJ", "市市场监管局", "good"),        # proposals: "samr" (seed 002: all on time, all satisfied)
    ("ZS", "市知识产权局", "exemplary"),   # seed 000: 见面率/满意率/公开率 100%
    ("JR", "市地方金融监管局", "average"),
    ("JT", "市交通运输局", "average"),
    ("JY", "市教育局", "good"),
    ("WJ", "市卫生健康委", "average"),
    ("HB", "市生态环境局", "average"),
    ("ZJ", "市住房建设局", "weak"),
    ("RS", "市人力资源社会保障局", "average"),
    ("MZ", "市民政局", "exemplary"),
    ("GT", "市规划和自然资源局", "average"),
    ("CG", "市城市管理和综合执法局", "weak"),
    ("GX", "市工业和信息化局", "average"),
    ("KC", "市科技创新委", "good"),
    ("SW", "市商务局", "average"),
]
NAME = {c: n for c, n, _ in DEPTS}
PROFILE_OF = {c: p for c, _, p in DEPTS}
ORDER = {c: i for i, (c, _, _) in enumerate(DEPTS)}


@dataclass(frozen=True)
class Profile:
    sign_wd: tuple[int, ...]          # working days from assignment to signing
    p_contact: float                  # some contact before the reply
    p_f2f: float                      # ... of which one face to face
    reply_days: tuple[int, int]       # calendar days after assignment (on-time replies)
    p_late: float
    late_wd: tuple[int, int]
    outcomes: tuple[float, float, float, float]   # A B C D
    p_satisfied: float                # else basically satisfied (dissatisfied is planted)
    p_fb_missing: float
    p_pub: float
    pub_wd: tuple[int, int]
    p_pub_late: float                 # published 35-60 working days after the reply
    p_revisit: float                  # contact after the reply (回访)
    p_urged: float                    # urged although on time
    co_p_sign: float
    co_sign_wd: tuple[int, ...]
    co_days: tuple[int, int]          # co_reply, calendar days after assignment
    co_p_late: float
    co_p_missing: float


PROFILES = {
    "exemplary": Profile((0, 1, 1, 2), 1.0, 1.0, (38, 75), 0.0, (1, 1), (.62, .34, .04, 0), 1.0, 0.0,
                         1.0, (0, 5), 0.0, .35, 0.0, 1.0, (0, 1, 1, 2), (7, 25), 0.0, 0.0),
    "samr": Profile((0, 1, 1, 2), 1.0, .92, (40, 80), 0.0, (1, 1), (.52, .43, .05, 0), 1.0, 0.0,
                    1.0, (0, 8), 0.0, .25, 0.0, 1.0, (0, 1, 1, 2), (8, 30), 0.0, 0.0),
    "good": Profile((0, 1, 1, 2, 3), 1.0, .85, (45, 85), .03, (1, 6), (.5, .38, .08, .04), .9, 0.0,
                    .97, (0, 10), 0.0, .25, .03, .98, (0, 1, 2, 3), (10, 35), .05, .0),
    "average": Profile((1, 2, 2, 3, 4, 5), .88, .6, (50, 90), .05, (1, 12), (.35, .4, .15, .1), .72, .03,
                       .85, (2, 25), .05, .15, .05, .95, (1, 2, 3, 4, 5), (14, 45), .1, .04),
    "weak": Profile((2, 3, 4, 6, 8, 10), .62, .35, (58, 92), .28, (3, 30), (.2, .35, .25, .2), .55, .1,
                    .55, (8, 30), .2, .05, .2, .85, (2, 4, 6, 8, 10), (25, 70), .3, .12),
}

# --------------------------------------------------------------------------
# topics: title cores per lead department, with plausible co-handlers
# --------------------------------------------------------------------------

CORES: dict[str, list[tuple[str, str]]] = {
    "SJ": [
        ("全面建设社会信用体系", "JR ZS"),
        ("进一步推进我市知识产权融资工作", "ZS JR KC"),
        ("优化先行先试国际前沿医疗技术审批机制", "WJ KC"),
        ("深化商事登记制度改革、破解“准入不准营”难题", "SW"),
        ("完善企业简易注销制度、破解企业退出难问题", "RS"),
        ("推进“证照分离”改革全覆盖", "SW GX"),
        ("严厉打击虚假注册和冒用他人身份登记行为", "JR"),
        ("健全知识产权多元化纠纷解决机制", "ZS"),
        ("加强企业商业秘密保护", "ZS KC"),
        ("强化公平竞争审查制度刚性约束", "SW"),
        ("对新产业新业态实行包容审慎监管", "GX KC"),
        ("推进“互联网+明厨亮灶”工程", "JY WJ"),
        ("加快农贸市场升级改造", "CG SW"),
        ("规范直播带货等网络交易行为", "SW"),
        ("加强老旧住宅电梯安全管理和更新改造", "ZJ"),
        ("加强医疗器械和化妆品质量安全监管", "WJ"),
        ("加快实施标准化战略、构建城市质量标准体系", "GX KC"),
        ("开展制造业产品质量提升行动", "GX ZS"),
        ("加强口罩等防疫物资质量和价格监管", "WJ GX"),
        ("全面禁止野生动物非法交易", "HB GT"),
        ("支持个体工商户纾困发展", "SW RS JR"),
        ("完善计量检测公共服务平台", "KC GX"),
        ("整治保健食品虚假宣传", "WJ"),
        ("规范药品零售企业执业药师配备", "WJ"),
        ("加强儿童玩具和学生用品质量监管", "JY"),
        ("推进食品安全追溯体系建设", "SW"),
        ("加强网络订餐平台食品安全管理", "SW"),
        ("建立健全企业信用修复机制", "JR"),
        ("推进检验检测机构市场化改革", "KC"),
        ("加强特种设备安全监管信息化建设", "GX"),
        ("加大商标品牌培育和保护力度", "ZS SW"),
        ("规范教育培训机构收费和合同行为", "JY"),
    ],
    "ZS": [
        ("加快推进我市知识产权质押融资工作", "JR SJ"),
        ("促进知识产权交易、助力创新产业高质量发展", "KC JR"),
        ("进一步完善我市职务发明奖励制度", "KC RS"),
        ("加强系统集成统筹推进、加速释放知识产权金融价值", "JR"),
        ("推进制造业产品科技创新、强化关键领域知识产权保护", "SJ GX"),
        ("打造企业知识产权服务人才队伍、促进科技创新中心建设", "RS JY"),
    ],
    "JR": [
        ("加大对中小微企业的融资支持力度", "GX SJ ZS"),
        ("防范化解网络借贷风险", "SJ"),
        ("支持科技型企业上市融资", "KC ZS"),
        ("完善政府性融资担保体系", "GX"),
        ("严厉打击非法集资、保护金融消费者权益", "SJ"),
        ("推动供应链金融发展", "SW GX"),
        ("探索开展知识产权证券化", "ZS"),
        ("加强地方金融组织监管", "SJ"),
        ("大力发展绿色金融", "HB"),
        ("深化跨境金融合作", "SW"),
        ("对受疫情影响企业实施延期还本付息", "GX SW"),
        ("规范小额贷款公司经营行为", "SJ"),
        ("发挥区域性股权市场服务中小企业作用", "KC"),
        ("拓展数字人民币试点应用场景", "SW"),
        ("加强融资租赁和商业保理行业监管", "SJ"),
        ("完善普惠金融服务体系", "MZ"),
    ],
    "JT": [
        ("优化公交线路、打通地铁接驳“最后一公里”", "GT"),
        ("加快推进轨道交通建设", "GT ZJ"),
        ("规范网约车经营和管理", "SJ"),
        ("推广新能源公交车和出租车", "HB GX"),
        ("改善货车司机停车休息条件", "RS"),
        ("加强电动自行车通行管理", "SJ CG"),
        ("优化机场和高铁枢纽接驳服务", "GT"),
        ("加快推进智慧交通建设", "KC GX"),
        ("完善公共交通无障碍出行设施", "MZ"),
        ("发展定制公交和夜间公交", ""),
        ("加强道路运输安全监管", ""),
        ("推进港口绿色低碳发展", "HB"),
        ("在中小学周边设置接送临时停车区", "JY CG"),
        ("缓解医院周边交通拥堵", "WJ"),
        ("规范共享单车投放和停放", "CG"),
        ("推进城市慢行系统建设", "GT CG"),
    ],
    "JY": [
        ("加强中小学生心理健康教育", "WJ"),
        ("切实减轻中小学生过重课业负担", ""),
        ("推广中小学课后延时服务", "RS"),
        ("规范校外培训机构办学行为", "SJ"),
        ("加强学生体质健康和近视防控", "WJ"),
        ("大力发展职业教育、深化产教融合", "RS GX"),
        ("推进知识产权教育进校园", "ZS"),
        ("加强中小学教师队伍建设", "RS"),
        ("促进高校科技成果转化", "KC ZS"),
        ("扩大普惠性幼儿园供给", ""),
        ("做好疫情期间线上教学保障", "GX"),
        ("推进特殊教育融合发展", "MZ"),
        ("推动高等教育高质量发展", "KC"),
        ("加强中小学劳动教育", ""),
        ("完善随迁子女入学政策", "RS"),
        ("加强校园安全管理", ""),
    ],
    "WJ": [
        ("健全公共卫生应急管理体系", "SJ KC"),
        ("加强社区健康服务中心建设", "GT"),
        ("推进分级诊疗和家庭医生签约服务", ""),
        ("加强医务人员职业安全保护", "RS"),
        ("促进中医药传承创新发展", "SJ ZS"),
        ("推动互联网医院发展", "GX"),
        ("加强精神卫生服务体系建设", "MZ"),
        ("发展普惠托育服务", "MZ JY"),
        ("引进高水平医院和医学人才", "RS"),
        ("提升儿童医疗服务能力", ""),
        ("加强传染病监测预警能力建设", "KC"),
        ("推进控烟立法和执法", "SJ"),
        ("完善院前急救体系", "JT"),
        ("提高医疗卫生资源配置效率", ""),
        ("加强基层中医馆建设", ""),
        ("推进公立医院综合改革", "RS"),
    ],
    "HB": [
        ("加强建筑工地扬尘污染治理", "ZJ CG"),
        ("加快消除黑臭水体", "ZJ"),
        ("加强餐饮油烟污染治理", "SJ CG"),
        ("推进塑料污染全链条治理", "SJ SW"),
        ("加强交通噪声和社会生活噪声防治", "JT CG"),
        ("加快建设低碳城市", "GX"),
        ("规范医疗废物收集处置", "WJ"),
        ("加强机动车尾气排放监管", "JT"),
        ("加强近岸海域污染防治", "GT"),
        ("推进“无废城市”建设", "CG"),
        ("加强挥发性有机物污染治理", "GX"),
        ("完善生态保护补偿机制", "GT"),
        ("加强土壤污染防治", "GT"),
        ("推行企业环境信用评价", "SJ JR"),
        ("加强生态环境执法能力建设", ""),
        ("推进环境污染第三方治理", ""),
    ],
    "ZJ": [
        ("加快人才住房和保障性住房建设", "GT RS"),
        ("推进既有住宅加装电梯", "SJ GT"),
        ("加强物业服务企业监管", "SJ"),
        ("推进城中村综合治理", "GT CG"),
        ("规范住房租赁市场秩序", "SJ JR"),
        ("大力发展装配式建筑", "GX"),
        ("保障建筑工人合法权益", "RS"),
        ("加快海绵城市建设", "GT HB"),
        ("加强建筑施工安全生产管理", ""),
        ("完善公共租赁住房分配机制", "MZ"),
        ("推广绿色建筑", "HB"),
        ("加强地下管线建设管理", "GT"),
        ("规范商品房预售资金监管", "JR"),
        ("治理住宅小区停车难问题", "JT GT"),
        ("提高住宅工程质量", "SJ"),
        ("推进建筑业企业减负", ""),
    ],
    "RS": [
        ("稳定和扩大高校毕业生就业", "JY"),
        ("根治拖欠农民工工资问题", "ZJ"),
        ("完善人才引进和落户政策", "KC"),
        ("实施职业技能提升行动", "JY"),
        ("阶段性减免企业社会保险费", "GX"),
        ("完善灵活就业人员参保政策", ""),
        ("建设高技能人才培训基地", "GX"),
        ("优化养老保险经办服务", "MZ"),
        ("规范人力资源服务市场", "SJ"),
        ("支持退役军人就业创业", ""),
        ("完善知识产权专业人才职称评价", "ZS"),
        ("便利港澳居民来本市就业", "SW"),
        ("完善工伤保险制度", "WJ"),
        ("加强劳动争议调解仲裁", ""),
        ("推进事业单位薪酬制度改革", ""),
        ("加强就业困难人员帮扶", "MZ"),
    ],
    "MZ": [
        ("发展社区居家养老服务", "WJ"),
        ("加强困境儿童关爱保护", "JY"),
        ("加快养老机构建设", "GT"),
        ("完善社会救助体系", "RS"),
        ("加强社会组织登记管理", "SJ"),
        ("深化殡葬改革", "GT"),
        ("促进慈善事业健康发展", ""),
        ("加强残疾人福利保障", "WJ RS"),
        ("推进社区治理创新", ""),
        ("壮大社会工作专业人才队伍", "RS"),
        ("推进老年人家庭适老化改造", "ZJ"),
        ("加强未成年人保护工作", "JY"),
        ("优化婚姻登记服务", ""),
        ("发展智慧养老", "GX"),
        ("完善养老服务补贴制度", ""),
        ("加强流浪乞讨人员救助管理", "CG"),
    ],
    "GT": [
        ("科学编制城市更新单元规划", "ZJ"),
        ("增加公共停车设施用地供给", "JT"),
        ("加强历史风貌区和历史建筑保护", ""),
        ("推进公园城市建设", "CG"),
        ("保障产业发展用地", "GX"),
        ("严格工业区块线管理", "GX"),
        ("提升不动产登记便民服务水平", "SJ"),
        ("加强海洋资源保护与利用", "HB"),
        ("推进地下空间开发利用", "ZJ"),
        ("妥善处理历史遗留违法建筑", "CG"),
        ("落实耕地保护制度", ""),
        ("规划建设社区体育设施", "JY"),
        ("建设绿道和碧道", "HB"),
        ("优化中小学用地规划", "JY"),
        ("完善地质灾害防治体系", ""),
        ("推进国土空间规划编制", ""),
    ],
    "CG": [
        ("加强户外广告和招牌设置管理", "SJ"),
        ("规范占道经营、发展“小店经济”", "SJ SW"),
        ("推进公厕提升改造", ""),
        ("加强城市照明管理", ""),
        ("加快垃圾处理设施建设", "HB"),
        ("加大违法建筑查处力度", "GT"),
        ("合理设置临时摊贩经营点", "SJ"),
        ("提升市容环境卫生水平", ""),
        ("加强行道树养护管理", ""),
        ("规范建筑垃圾处置", "ZJ HB"),
        ("加强燃气管道巡查保护", "ZJ"),
        ("推进智慧城管建设", "GX"),
        ("治理“牛皮癣”小广告", ""),
        ("规范城市道路开挖管理", "JT"),
        ("推进厨余垃圾资源化利用", "HB"),
        ("加强城管执法队伍规范化建设", ""),
    ],
    "GX": [
        ("加快5G网络建设和应用", "GT"),
        ("支持中小企业走“专精特新”发展之路", "ZS JR"),
        ("推动制造业数字化转型", "KC"),
        ("加快集成电路产业发展", "KC ZS"),
        ("加快工业互联网发展", "KC"),
        ("推动新能源汽车产业发展", "JT"),
        ("降低企业用电成本", "SJ"),
        ("推进工业园区提质升级", "GT"),
        ("加强工业设计和自主品牌建设", "ZS SJ"),
        ("发展人工智能产业", "KC"),
        ("推动生物医药产业发展", "WJ SJ"),
        ("促进民营经济高质量发展", "SJ JR"),
        ("发展超高清视频产业", ""),
        ("推动消费电子产业链稳链补链", "SW"),
        ("加强工业企业安全生产管理", ""),
        ("推广首台套重大技术装备", "KC"),
    ],
    "KC": [
        ("加大基础研究投入", ""),
        ("加快建设重大科技基础设施", ""),
        ("推进产学研深度融合和成果转化", "ZS JY"),
        ("支持高新技术企业发展壮大", "ZS"),
        ("推进跨境科技创新合作", "SW"),
        ("完善科技金融服务体系", "JR ZS"),
        ("支持新型研发机构发展", ""),
        ("加强科技人才引进培养", "RS"),
        ("改革科技计划项目管理", ""),
        ("加强科研诚信建设", ""),
        ("支持企业建设研发机构", "GX"),
        ("加强科技伦理审查", "WJ"),
        ("推动科技企业孵化器提质增效", "ZS"),
        ("推动科研仪器设备开放共享", ""),
        ("支持青年科技人才成长", "RS"),
        ("完善科技成果评价机制", "ZS"),
    ],
    "SW": [
        ("促进消费回补和潜力释放", "SJ"),
        ("发展夜间经济", "CG SJ"),
        ("扶持老字号企业创新发展", "SJ ZS"),
        ("加快跨境电子商务发展", "SJ"),
        ("稳外贸稳外资", "JR"),
        ("推进会展业高质量发展", ""),
        ("推进菜市场标准化建设", "SJ"),
        ("发展数字贸易", "GX"),
        ("推动内外贸一体化", "SJ"),
        ("优化口岸营商环境", ""),
        ("发展服务外包产业", ""),
        ("完善商业网点规划", "GT"),
        ("支持外贸企业海外知识产权维权", "ZS"),
        ("推动社区商业发展", ""),
        ("规范汽车销售和二手车交易", "SJ"),
        ("加强成品油市场监管", "SJ"),
    ],
}

# cases answered by 2-3 departments, each its own part (分办): kind, core, split depts, co candidates
SPLITS: list[tuple[str, str, str, str]] = [
    ("proposal", "加强单用途预付卡消费监管", "SJ SW", "JR"),
    ("proposal", "加强瓶装液化气和燃气用具安全监管", "SJ ZJ CG", ""),
    ("proposal", "整治医疗美容行业乱象", "SJ WJ", ""),
    ("proposal", "规范机动车停车收费行为", "SJ JT", "GT"),
    ("proposal", "加强校园及周边食品安全监管", "SJ JY", ""),
    ("proposal", "规范住宅物业服务收费", "SJ ZJ", "MZ"),
    ("proposal", "全面推进生活垃圾分类", "HB CG", "ZJ SJ"),
    ("proposal", "加强外卖骑手等新就业形态劳动者权益保障", "RS JT", "SJ"),
    ("suggestion", "加快推进老旧小区综合改造", "ZJ GT", "SJ CG"),
    ("suggestion", "多渠道增加中小学学位供给", "JY GT", "ZJ"),
    ("suggestion", "推进医养结合服务发展", "WJ MZ", "RS"),
    ("suggestion", "系统治理城市内涝问题", "CG ZJ GT", "HB"),
    ("suggestion", "帮助中小企业复工复产渡过难关", "GX RS SW", "JR SJ"),
]

# single-lead cases per department: (suggestions, proposals)
LEAD_COUNTS = {
    "SJ": (6, 20), "ZS": (5, 1), "JR": (5, 6), "JT": (8, 6), "JY": (8, 6), "WJ": (8, 7),
    "HB": (7, 7), "ZJ": (8, 6), "RS": (7, 6), "MZ": (6, 6), "GT": (6, 5), "CG": (7, 5),
    "GX": (5, 7), "KC": (4, 7), "SW": (4, 7),
}
SJ_KEY_CORES = 3          # the first three SJ cores are SJ-led key proposals (seed 002)
QUOTA_CO = {               # co-handler roles fixed by the seeds: dept -> (suggestions, proposals)
    "SJ": (8, 38),
    "ZS": (10, 20),
}
CO_AFFINITY = {            # fallback lead departments when too few topics name the quota dept
    "SJ": "SW GX WJ JR CG ZJ KC JY HB",
    "ZS": "KC GX JR SW SJ JY",
}

# batches of assignment: (date, count, session label)
BATCHES = {
    "suggestion": [
        ("2020-03-10", 60, "市六届人大七次会议"),
        ("2020-03-24", 14, "市六届人大七次会议"),
        ("2020-04-03", 8, "市六届人大七次会议"),     # Friday before Qingming (Apr 4-6)
        ("2020-04-26", 5, "市六届人大七次会议"),     # adjusted working Sunday
        ("2020-06-24", 3, "闭会期间"),               # day before Dragon Boat (Jun 25-27)
        ("2020-07-06", 2, "闭会期间"),               # 3-month deadline Oct 6 (National Day)
        ("2020-09-25", 2, "闭会期间"),               # next working day is Sunday Sep 27
        ("2020-09-30", 3, "闭会期间"),               # day before National Day (Oct 1-8)
        ("2020-11-12", 2, "闭会期间"),
    ],
    "proposal": [
        ("2020-03-12", 66, "市政协六届六次会议"),
        ("2020-03-26", 18, "市政协六届六次会议"),    # 3-month deadline Jun 26 (Dragon Boat)
        ("2020-04-30", 10, "市政协六届六次会议"),    # day before Labour Day (May 1-5)
        ("2020-05-09", 4, "市政协六届六次会议"),     # adjusted working Saturday
        ("2020-06-24", 2, "闭会期间"),
        ("2020-07-01", 3, "闭会期间"),               # 3-month deadline Oct 1
        ("2020-09-29", 3, "闭会期间"),
        ("2020-10-10", 2, "闭会期间"),               # adjusted working Saturday
        ("2020-11-18", 2, "闭会期间"),
    ],
}

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦方白邹孟熊秦邱江尹薛段雷侯龙史陶黎贺顾毛郝龚邵"
            "万钱严覃武戴莫孔向汤")
COMPOUND_SURNAMES = ("欧阳", "司徒", "上官")

# --------------------------------------------------------------------------
# calendar helpers (official Chinese calendar, adjusted working weekends included)
# --------------------------------------------------------------------------


def D(s: str) -> dt.date:
    return dt.date.fromisoformat(s)


def is_work(d: dt.date) -> bool:
    return chinese_calendar.is_workday(d)


def next_work(d: dt.date) -> dt.date:
    while not is_work(d):
        d += dt.timedelta(days=1)
    return d


def prev_work(d: dt.date) -> dt.date:
    while not is_work(d):
        d -= dt.timedelta(days=1)
    return d


def add_work(d: dt.date, n: int) -> dt.date:
    """The n-th working day after d (n=0: d itself if a working day, else the next one)."""
    d = next_work(d)
    for _ in range(n):
        d = next_work(d + dt.timedelta(days=1))
    return d


def add_days(d: dt.date, n: int) -> dt.date:
    return d + dt.timedelta(days=n)


def add_months(d: dt.date, m: int) -> dt.date:
    y, mo = divmod(d.month - 1 + m, 12)
    y, mo = d.year + y, mo + 1
    return dt.date(y, mo, min(d.day, calendar.monthrange(y, mo)[1]))


def official_holiday(d: dt.date) -> bool:
    on, name = chinese_calendar.get_holiday_detail(d)
    return bool(on and name)


def adjusted_workday(d: dt.date) -> bool:
    return d.weekday() >= 5 and is_work(d)


# --------------------------------------------------------------------------
# model
# --------------------------------------------------------------------------


@dataclass
class Plan:
    """What happens to one handler (decided before its events are simulated)."""
    dissatisfied: bool = False
    second_fb: str | None = None          # rating of the second feedback, None = none
    no_reply: bool = False
    extensions: tuple[int, ...] = ()
    late_even_extended: bool = False
    reply_on: dt.date | None = None
    sign_on: dt.date | None = None
    outcome: str | None = None
    returned: str | None = None           # "same" (lead re-assigned), "co" (co returns), "to_co"
    co_missing: bool = False


@dataclass
class Handler:
    code: str
    role: str
    assigned: dt.date | None = None
    plan: Plan = field(default_factory=Plan)


@dataclass
class Case:
    kind: str
    core: str
    tags: list[str]
    handlers: list[Handler]
    key: bool = False
    waived: bool = False
    batch: dt.date | None = None
    session: str = ""
    cid: str = ""
    proposer: str = ""
    events: list[dict] = field(default_factory=list)

    def primaries(self) -> list[Handler]:
        return [h for h in self.handlers if h.role in ("lead", "split")]

    def codes(self) -> list[str]:
        return [h.code for h in self.handlers]

    def n_co(self) -> int:
        return sum(h.role == "co" for h in self.handlers)


def profile_for(code: str, kind: str) -> Profile:
    if code == "SJ" and kind == "proposal":
        return PROFILES["samr"]
    return PROFILES[PROFILE_OF[code]]


def tags_of(s: str) -> list[str]:
    return [t for t in s.split() if t]


# --------------------------------------------------------------------------
# building the cases
# --------------------------------------------------------------------------


def build_skeletons(rng: random.Random) -> list[Case]:
    cases: list[Case] = []
    for kind, core, splits, co in SPLITS:
        hs = [Handler(c, "split") for c in tags_of(splits)]
        cases.append(Case(kind, core, tags_of(co), hs))
    for code, _, _ in DEPTS:
        n_j, n_t = LEAD_COUNTS[code]
        cores = list(CORES[code])
        fixed: list[tuple[str, str]] = []
        if code == "SJ":
            fixed, cores = cores[:SJ_KEY_CORES], cores[SJ_KEY_CORES:]
        if code == "ZS":
            # seed 000: 5 suggestions as lead, 1 proposal as lead (the talent one, kept for reference)
            picks = [("suggestion", c) for c in cores[:5]] + [("proposal", cores[5])]
        else:
            rng.shuffle(cores)
            need_t = n_t - len(fixed)
            picks = [("proposal", c) for c in fixed]
            picks += [("proposal", c) for c in cores[:need_t]]
            picks += [("suggestion", c) for c in cores[need_t:need_t + n_j]]
            assert len(cores) >= need_t + n_j, code
        for kind, (core, co) in picks:
            cases.append(Case(kind, core, [t for t in tags_of(co) if t != code], [Handler(code, "lead")]))
    return cases


def choose_co(cases: list[Case], rng: random.Random) -> None:
    # quota departments first (the seeds fix their counts)
    for qd, (n_j, n_t) in QUOTA_CO.items():
        for kind, n in (("suggestion", n_j), ("proposal", n_t)):
            pool = [c for c in cases if c.kind == kind and qd not in c.codes()]
            tagged = [c for c in pool if qd in c.tags and c.n_co() < 3]
            chosen = rng.sample(tagged, min(n, len(tagged)))
            if len(chosen) < n:
                aff = tags_of(CO_AFFINITY[qd])
                rest = [c for c in pool if c not in chosen and c.n_co() < 3
                        and any(h.code in aff for h in c.primaries())]
                chosen += rng.sample(rest, n - len(chosen))
            for c in chosen:
                c.handlers.append(Handler(qd, "co"))
    # other departments, from the topic's plausible co-handlers
    for c in cases:
        cand = [t for t in c.tags if t not in QUOTA_CO and t not in c.codes()]
        n = rng.choices((0, 1, 2, 3), (38, 40, 17, 5))[0]
        n = min(n, len(cand), 3 - c.n_co())
        for t in rng.sample(cand, n):
            c.handlers.append(Handler(t, "co"))
    for c in cases:
        c.handlers.sort(key=lambda h: (h.role == "co", ORDER[h.code]))


def choose_key(cases: list[Case], rng: random.Random) -> None:
    props = [c for c in cases if c.kind == "proposal"]
    sj_cores = [core for core, _ in CORES["SJ"][:SJ_KEY_CORES]]
    for c in props:
        if c.core in sj_cores:
            c.key = True
    sj_co = [c for c in props if any(h.code == "SJ" and h.role == "co" for h in c.handlers)]
    for c in rng.sample(sj_co, 7):                       # seed 002: co-handled 7 key proposals
        c.key = True
    others = [c for c in props if "SJ" not in c.codes() and "ZS" not in c.codes()]
    for c in rng.sample(others, 2):
        c.key = True


def assign_batches_and_ids(cases: list[Case], rng: random.Random) -> None:
    for kind, prefix in (("suggestion", "J"), ("proposal", "T")):
        group = [c for c in cases if c.kind == kind]
        slots: list[tuple[dt.date, str]] = []
        for day, n, session in BATCHES[kind]:
            slots += [(D(day), session)] * n
        assert len(slots) == len(group), (kind, len(slots), len(group))
        # key cases are assigned in the first (main) batch
        main = [c for c in group if c.key]
        rest = [c for c in group if not c.key]
        rng.shuffle(rest)
        ordered = main + rest
        for c, (day, session) in zip(ordered, slots):
            c.batch, c.session = day, session
        rng.shuffle(ordered)
        ordered.sort(key=lambda c: c.batch)              # stable: ids follow assignment dates
        for i, c in enumerate(ordered, 1):
            c.cid = f"2020-{prefix}{i:04d}"
            for h in c.handlers:
                h.assigned = c.batch


def choose_proposers(cases: list[Case], rng: random.Random) -> None:
    for c in sorted(cases, key=lambda c: c.cid):
        if c.core == "全面建设社会信用体系":
            sur = "张"
        elif rng.random() < 0.02:
            sur = rng.choice(COMPOUND_SURNAMES)
        else:
            sur = rng.choice(SURNAMES)
        c.proposer = sur + ("代表" if c.kind == "suggestion" else "委员")


# --------------------------------------------------------------------------
# planted scenarios
# --------------------------------------------------------------------------


@dataclass
class Planted:
    dissatisfied: list[str] = field(default_factory=list)
    no_reply: list[str] = field(default_factory=list)
    extension: list[str] = field(default_factory=list)
    double_extension: list[str] = field(default_factory=list)
    returned: list[str] = field(default_factory=list)
    waived: list[str] = field(default_factory=list)
    holiday_reply: list[str] = field(default_factory=list)
    holiday_sign: list[str] = field(default_factory=list)


def plant(cases: list[Case], rng: random.Random) -> Planted:
    P = Planted()
    by_id = sorted(cases, key=lambda c: c.cid)
    used: set[tuple[str, str]] = set()      # (case id, dept) already given a special plan

    def prim(pred) -> list[tuple[Case, Handler]]:
        out = []
        for c in by_id:
            for h in c.primaries():
                if (c.cid, h.code) not in used and pred(c, h):
                    out.append((c, h))
        return out

    def take(pool, n):
        got = rng.sample(pool, n)
        got.sort(key=lambda ch: (ch[0].cid, ch[1].code))
        for c, h in got:
            used.add((c.cid, h.code))
        return got

    def ordinary(c: Case, h: Handler) -> bool:
        return not (h.code == "SJ" and c.kind == "proposal") and h.code != "ZS"

    def single(c: Case) -> bool:
        return len(c.primaries()) == 1

    # IP office: 5 suggestions solved/adopted, the proposal kept for reference (seed 000)
    for c in by_id:
        for h in c.primaries():
            if h.code == "ZS":
                h.plan.outcome = "A" if c.kind == "suggestion" else "D"
    # IP office: one co-handled case still in progress (no opinion yet)
    zs_co = [c for c in by_id if any(h.code == "ZS" and h.role == "co" for h in c.handlers)]
    miss = rng.choice(zs_co)
    next(h for h in miss.handlers if h.code == "ZS" and h.role == "co").plan.co_missing = True

    # holiday-week deadlines and adjusted working days (explicit dates)
    def holiday_reply(batch: str, dates: list[str]) -> None:
        pool = prim(lambda c, h: c.batch == D(batch) and ordinary(c, h) and not c.key)
        for (c, h), day in zip(take(pool, len(dates)), dates):
            h.plan.reply_on = D(day)
            P.holiday_reply.append(c.cid)
    holiday_reply("2020-03-26", ["2020-06-24", "2020-06-28", "2020-06-29"])   # due Jun 26 (Dragon Boat)
    holiday_reply("2020-07-01", ["2020-09-27", "2020-10-09"])                 # due Oct 1 (National Day)
    holiday_reply("2020-07-06", ["2020-10-10"])                               # due Oct 6, answered Sat Oct 10

    def holiday_sign(batch: str, dates: list[str]) -> None:
        pool = prim(lambda c, h: c.batch == D(batch) and ordinary(c, h))
        for (c, h), day in zip(take(pool, len(dates)), dates):
            h.plan.sign_on = D(day)
            P.holiday_sign.append(c.cid)
    holiday_sign("2020-04-30", ["2020-05-09", "2020-05-09"])    # signed on the working Saturday
    holiday_sign("2020-09-25", ["2020-09-27"])                  # working Sunday
    holiday_sign("2020-09-30", ["2020-10-10"])                  # working Saturday
    holiday_sign("2020-06-24", ["2020-06-28"])                  # working Sunday after Dragon Boat

    # no reply at all (weak departments, plus one average)
    for code, n in (("ZJ", 2), ("CG", 1), ("HB", 1)):
        for c, h in take(prim(lambda c, h, code=code: h.code == code and not c.key
                              and c.batch < D("2020-09-01")), n):
            h.plan.no_reply = True
            P.no_reply.append(c.cid)

    # dissatisfied, handled again: 4 weak, 7 average
    ratings2 = ["satisfied"] * 5 + ["basically_satisfied"] * 3 + ["dissatisfied"] + [None, None]
    pool_w = prim(lambda c, h: PROFILE_OF[h.code] == "weak" and c.batch < D("2020-09-01"))
    pool_a = prim(lambda c, h: PROFILE_OF[h.code] == "average" and c.batch < D("2020-09-01")
                  and ordinary(c, h))
    chosen = take(pool_w, 4) + take(pool_a, 7)
    for (c, h), r2 in zip(chosen, ratings2):
        h.plan.dissatisfied = True
        h.plan.second_fb = r2
        P.dissatisfied.append(c.cid)

    # extensions: 10 single, 2 double; one still late after its extension
    pool = prim(lambda c, h: ordinary(c, h) and PROFILE_OF[h.code] in ("good", "average", "weak")
                and c.batch < D("2020-10-01"))
    ext = take(pool, 12)
    for i, (c, h) in enumerate(ext):
        if i < 2:
            h.plan.extensions = ((30, 30), (30, 15))[i]
            P.double_extension.append(c.cid)
        else:
            h.plan.extensions = (rng.choice((30, 30, 30, 15, 20, 60)),)
        if i == 5:
            h.plan.late_even_extended = True
        P.extension.append(c.cid)

    # returned (退办): co returns; lead returns and is re-assigned; lead returns and becomes co
    co_pool = [(c, h) for c in by_id for h in c.handlers
               if h.role == "co" and h.code not in QUOTA_CO and c.batch < D("2020-09-01")]
    for c, h in rng.sample(co_pool, 2):
        h.plan.returned = "co"
        P.returned.append(c.cid)
    for c, h in take(prim(lambda c, h: single(c) and ordinary(c, h) and not c.key
                          and c.batch < D("2020-09-01")), 2):
        h.plan.returned = "same"
        P.returned.append(c.cid)
    # a case first sent to the wrong lead, which returns it and stays on as co-handler
    pool = [c for c in by_id if single(c) and c.n_co() < 3 and not c.key
            and c.batch == D("2020-03-10") and (c.cid, c.primaries()[0].code) not in used
            and ordinary(c, c.primaries()[0])
            and any(t not in c.codes() and t not in QUOTA_CO for t in c.tags)]
    c = rng.choice(pool)
    x = next(t for t in c.tags if t not in c.codes() and t not in QUOTA_CO)
    c.handlers.append(Handler(x, "co", c.batch, Plan(returned="to_co")))
    lead = c.primaries()[0]
    lead.assigned = add_work(c.batch, 6)
    used.add((c.cid, lead.code))
    P.returned.append(c.cid)

    # members who said a phone call is enough (seed 002): 3 market-regulation proposals, 2 others
    for c, _ in take(prim(lambda c, h: h.code == "SJ" and c.kind == "proposal" and single(c)
                          and not c.key), 3):
        c.waived = True
        P.waived.append(c.cid)
    for code in ("RS", "GX"):
        for c, _ in take(prim(lambda c, h, code=code: h.code == code and single(c) and not c.key), 1):
            c.waived = True
            P.waived.append(c.cid)

    for lst in (P.dissatisfied, P.no_reply, P.extension, P.double_extension, P.returned, P.waived,
                P.holiday_reply, P.holiday_sign):
        lst.sort()
    return P


# --------------------------------------------------------------------------
# simulating events
# --------------------------------------------------------------------------

OTHER_MODES = ("phone", "wechat", "email", "letter", "other")
OTHER_WEIGHTS = (45, 30, 10, 10, 5)


def ev(type_: str, date: dt.date, dept: str, **extra) -> dict:
    e = {"type": type_, "date": date, "department": NAME[dept]}
    e.update(extra)
    return e


def pick_day(rng: random.Random, lo: dt.date, hi: dt.date) -> dt.date:
    """A working day in [lo, hi] (hi if the window is empty)."""
    if hi <= lo:
        return lo
    for _ in range(20):
        d = add_days(lo, rng.randint(0, (hi - lo).days))
        if is_work(d):
            return d
    return next_work(lo)


def contacts(rng: random.Random, dept: str, lo: dt.date, hi: dt.date, *, f2f: bool, n: int,
             waived: bool, key: bool, kind: str) -> list[dict]:
    out = []
    if waived:
        for i in range(max(1, min(n, 2))):
            extra = {"note": "委员表示电话沟通即可" if kind == "proposal" else "代表表示电话沟通即可"} if i == 0 else {}
            out.append(ev("contact", pick_day(rng, lo, hi), dept, mode="phone", **extra))
        return out
    modes = []
    if f2f:
        modes.append("face_to_face")
    while len(modes) < n:
        modes.append(rng.choices(OTHER_MODES, OTHER_WEIGHTS)[0])
    for m in modes:
        out.append(ev("contact", pick_day(rng, lo, hi), dept, mode=m))
    if key:
        for note in ("重点提案调研座谈会", "重点提案办理协商会"):
            out.append(ev("contact", pick_day(rng, lo, hi), dept, mode="face_to_face", note=note))
    return out


def outcome_of(rng: random.Random, prof: Profile) -> str:
    return rng.choices("ABCD", prof.outcomes)[0]


def sim_primary(c: Case, h: Handler, rng: random.Random) -> list[dict]:
    prof = profile_for(h.code, c.kind)
    p = h.plan
    d = h.code
    out: list[dict] = []
    A = h.assigned
    out.append(ev("assigned", A, d))
    if p.returned == "same":
        r = add_work(A, rng.choice((1, 2, 3)))
        out.append(ev("returned", r, d, note="认为不属于本单位职责，申请退办"))
        A = add_work(r, rng.choice((3, 4, 5)))
        out.append(ev("assigned", A, d, note="经协调仍由本单位办理，重新交办"))
    S = p.sign_on or add_work(A, rng.choice(prof.sign_wd))
    out.append(ev("signed", S, d))

    deadline = add_months(A, 3)
    eff = deadline
    last_ext = None
    for i, days in enumerate(p.extensions):
        x = pick_day(rng, add_days(eff, -20), add_days(eff, -5))
        out.append(ev("extension", x, d, days=days,
                      note="涉及多部门协调，申请延期办理" if i == 0 else "需待政策出台，再次申请延期"))
        eff = add_days(eff, days)
        last_ext = x

    # reply date
    late = False
    if p.no_reply:
        R = None
    elif p.reply_on:
        R = p.reply_on
    elif p.extensions:
        if p.late_even_extended:
            R = add_work(eff, rng.randint(5, 12))
            late = True
        else:
            R = pick_day(rng, max(add_days(deadline, 1), add_work(last_ext, 5)), prev_work(eff))
    elif rng.random() < prof.p_late:
        R = add_work(deadline, rng.randint(*prof.late_wd))
        late = True
    else:
        R = next_work(add_days(A, rng.randint(*prof.reply_days)))
        if R > deadline:  # noqa: SIM300 - R is the reply date (A, S, R: assigned, signed, reply), not a constant
            R = prev_work(deadline)
    if R is not None and R < add_work(S, 6):  # noqa: SIM300 - R is a date, as above
        R = add_work(S, 6)

    waived = c.waived
    key = c.key
    # contacts before the reply
    end = R if R is not None else add_days(deadline, 40)
    lo, hi = add_work(S, 1), add_days(end, -3)
    if p.dissatisfied:
        # the dissatisfied ones were often answered with little contact first
        has_contact = key or rng.random() < 0.5
    else:
        has_contact = key or waived or rng.random() < prof.p_contact
    if has_contact:
        n = rng.choices((1, 2, 3), (50, 35, 15))[0]
        f2f = rng.random() < prof.p_f2f
        out += contacts(rng, d, lo, hi, f2f=f2f, n=n, waived=waived, key=key, kind=c.kind)

    # urged by the supervisor
    if p.no_reply:
        u = add_work(deadline, rng.randint(2, 5))
        for _ in range(rng.choice((2, 3))):
            out.append(ev("urged", u, d, note="市政府督查室催办"))
            u = add_work(u, rng.randint(12, 20))
    elif late:
        u = add_work(eff, rng.randint(1, 3))
        if u < R:
            out.append(ev("urged", u, d, note="逾期未答复，督查室催办"))
            u2 = add_work(u, rng.randint(5, 10))
            if u2 < R and PROFILE_OF[d] == "weak":
                out.append(ev("urged", u2, d, note="再次催办"))
    elif rng.random() < prof.p_urged:
        u = pick_day(rng, add_days(A, 35), add_days(R, -2))
        if u < R:
            out.append(ev("urged", u, d, note="办理进度滞后，督查室督办"))
    if R is None:
        return out

    outcome = p.outcome or outcome_of(rng, prof)
    out.append(ev("reply", R, d, outcome=outcome))

    # feedback
    F = None
    if p.dissatisfied:
        F = add_days(R, rng.randint(7, 24))
        out.append(ev("feedback", F, d, rating="dissatisfied"))
    elif rng.random() >= prof.p_fb_missing:
        F = add_days(R, rng.randint(7, 28))
        rating = "satisfied" if rng.random() < prof.p_satisfied else "basically_satisfied"
        out.append(ev("feedback", F, d, rating=rating))

    # publication
    if rng.random() < prof.p_pub:
        if rng.random() < prof.p_pub_late:
            P_ = add_work(R, rng.randint(35, 60))
        else:
            P_ = add_work(R, rng.randint(*prof.pub_wd))
        out.append(ev("published", P_, d))

    # return visit after the reply
    if not p.dissatisfied and rng.random() < prof.p_revisit:
        m = "phone" if waived else rng.choice(("phone", "wechat", "face_to_face"))
        out.append(ev("contact", pick_day(rng, add_days(R, 5), add_days(R, 40)), d, mode=m,
                      note="办后回访"))

    # re-handling after dissatisfaction
    if p.dissatisfied:
        c1 = add_work(F, rng.randint(2, 8))
        out.append(ev("contact", c1, d, mode="face_to_face", note="不满意件重新办理，上门沟通"))
        if rng.random() < 0.5:
            out.append(ev("contact", add_work(c1, rng.randint(3, 8)), d,
                          mode=rng.choice(("phone", "wechat"))))
        R2 = add_work(F, rng.randint(18, 32))
        better = {"A": "A", "B": "A", "C": "B", "D": "C"}
        o2 = better[outcome] if rng.random() < 0.6 else outcome
        out.append(ev("reply", R2, d, outcome=o2, note="重新办理后再次答复"))
        if p.second_fb:
            out.append(ev("feedback", add_days(R2, rng.randint(7, 21)), d, rating=p.second_fb))
    return out


def sim_co(c: Case, h: Handler, lead_deadline: dt.date, rng: random.Random) -> list[dict]:
    prof = profile_for(h.code, c.kind)
    p = h.plan
    d = h.code
    A = h.assigned
    out = [ev("assigned", A, d)]
    if p.returned == "co":
        out.append(ev("returned", add_work(A, rng.choice((1, 2, 3))), d,
                      note="认为与本单位职责关联不大，申请退办"))
        return out
    if p.returned == "to_co":
        r = add_work(A, 2)
        out.append(ev("returned", r, d, note="非本单位主责，申请退办"))
        A = add_work(A, 6)
        out.append(ev("assigned", A, d, note="调整为会办单位，重新交办"))
    if rng.random() < prof.co_p_sign:
        out.append(ev("signed", add_work(A, rng.choice(prof.co_sign_wd)), d))
    co_deadline = add_days(lead_deadline, -20)
    if p.co_missing or rng.random() < prof.co_p_missing:
        if not p.co_missing:   # the in-progress IP case is not chased
            out.append(ev("urged", add_work(co_deadline, rng.randint(2, 6)), d, note="会办意见未报送，催办"))
        return out
    if rng.random() < prof.co_p_late:
        cr = add_work(co_deadline, rng.randint(3, 20))
        u = add_work(co_deadline, rng.randint(1, 2))
        if u < cr and rng.random() < (0.8 if PROFILE_OF[d] == "weak" else 0.4):
            out.append(ev("urged", u, d, note="会办意见逾期，催办"))
    else:
        cr = next_work(add_days(A, rng.randint(*prof.co_days)))
        if cr > co_deadline:
            cr = prev_work(co_deadline)
    out.append(ev("co_reply", cr, d))
    return out


def simulate(c: Case, rng: random.Random) -> None:
    per_handler: list[list[dict]] = []
    lead_deadline = add_months(max(h.assigned for h in c.primaries()), 3)
    for h in c.handlers:
        if h.role == "co":
            evs = sim_co(c, h, lead_deadline, rng)
        else:
            evs = sim_primary(c, h, rng)
        evs.sort(key=lambda e: e["date"])            # stable: logical order for equal dates
        per_handler.append(evs)
    events = [e for evs in per_handler for e in evs]
    for i, e in enumerate(events, 1):
        e["id"] = f"e{i}"
        e["date"] = e["date"].isoformat()
    # the format allows any order: shuffle, and make sure the result is not date-sorted
    for _ in range(50):
        rng.shuffle(events)
        dates = [e["date"] for e in events]
        if dates != sorted(dates):
            break
    c.events = events


# --------------------------------------------------------------------------
# output
# --------------------------------------------------------------------------

EVENT_KEYS = ("id", "type", "date", "department", "mode", "days", "outcome", "rating", "note")


def case_json(c: Case) -> str:
    obj = {
        "id": c.cid,
        "kind": c.kind,
        "title": f"关于{c.core}的{'建议' if c.kind == 'suggestion' else '提案'}",
        "proposer": c.proposer,
        "key": c.key,
        "waived_f2f": c.waived,
        "session": c.session,
        "handlers": [{"department": NAME[h.code], "role": h.role} for h in c.handlers],
        "events": [{k: e[k] for k in EVENT_KEYS if k in e} for e in c.events],
    }
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def summary(cases: list[Case], planted: Planted) -> tuple[str, str]:
    roles = ("lead", "split", "co")
    rows = []
    tot = [0] * 8
    for code, name, prof in DEPTS:
        cnt = []
        for kind in ("suggestion", "proposal"):
            for r in roles:
                cnt.append(sum(1 for c in cases if c.kind == kind
                               for h in c.handlers if h.code == code and h.role == r))
        total = sum(cnt)
        tot = [a + b for a, b in zip(tot, cnt + [total, 0])]
        rows.append((name, prof, *cnt, total))
    head = ("| 部门 department | 作风 profile | 建议 lead | 建议 split | 建议 co | 提案 lead | 提案 split "
            "| 提案 co | 合计 total |")
    lines = [head, "|" + "---|" * 9]
    for r in rows:
        lines.append("| " + " | ".join(str(x) for x in r) + " |")
    lines.append("| 合计 | | " + " | ".join(str(x) for x in tot[:7]) + " |")
    table = "\n".join(lines)

    # scenario counts, recomputed from the data
    n_events = sum(len(c.events) for c in cases)
    n_handlers = sum(len(c.handlers) for c in cases)
    evs = [(c, e) for c in cases for e in c.events]
    by_type = {}
    for _, e in evs:
        by_type[e["type"]] = by_type.get(e["type"], 0) + 1
    ext_cases = sorted({c.cid for c, e in evs if e["type"] == "extension"})
    dissat = [(c, e) for c, e in evs if e["type"] == "feedback" and e["rating"] == "dissatisfied"]
    second_reply = 0
    second_fb = 0
    for c in cases:
        for h in c.primaries():
            nm = NAME[h.code]
            second_reply += sum(1 for e in c.events if e["department"] == nm and e["type"] == "reply") >= 2
            second_fb += sum(1 for e in c.events if e["department"] == nm and e["type"] == "feedback") >= 2
    no_reply = [(c.cid, NAME[h.code]) for c in cases for h in c.primaries()
                if not any(e["department"] == NAME[h.code] and e["type"] == "reply" for e in c.events)]
    no_co = [(c.cid, NAME[h.code]) for c in cases for h in c.handlers if h.role == "co"
             and not any(e["department"] == NAME[h.code] and e["type"] == "co_reply" for e in c.events)]
    urged_cases = sorted({c.cid for c, e in evs if e["type"] == "urged"})

    # holiday-adjacent: assigned within 3 days before an official holiday, any event on an
    # adjusted working weekend, or a 3-month reply deadline falling on an official holiday
    def pre_holiday(d):
        return any(official_holiday(add_days(d, k)) for k in (1, 2, 3))
    hol_assigned, hol_adjusted, hol_deadline = set(), set(), set()
    for c in cases:
        for e in c.events:
            d = D(e["date"])
            if e["type"] == "assigned" and pre_holiday(d):
                hol_assigned.add(c.cid)
            if adjusted_workday(d):
                hol_adjusted.add(c.cid)
        for h in c.primaries():
            if official_holiday(add_months(h.assigned, 3)):
                hol_deadline.add(c.cid)
    hol_any = hol_assigned | hol_adjusted | hol_deadline
    holiday_signed = sum(1 for _, e in evs if e["type"] == "signed" and adjusted_workday(D(e["date"])))
    holiday_replied = sum(1 for _, e in evs if e["type"] == "reply" and adjusted_workday(D(e["date"])))

    late = 0
    no_contact_first = 0
    for c in cases:
        for h in c.primaries():
            nm = NAME[h.code]
            mine = [e for e in c.events if e["department"] == nm]
            assigned = max(D(e["date"]) for e in mine if e["type"] == "assigned")
            dl = add_months(assigned, 3) + dt.timedelta(days=sum(e["days"] for e in mine if e["type"] == "extension"))
            replies = sorted(D(e["date"]) for e in mine if e["type"] == "reply")
            if replies and replies[0] > dl:
                late += 1
            if replies and not any(e["type"] == "contact" and D(e["date"]) < replies[0] for e in mine):
                no_contact_first += 1

    n_j = sum(c.kind == "suggestion" for c in cases)
    n_t = len(cases) - n_j
    stats = [
        ("cases (suggestions / proposals)", f"{len(cases)} ({n_j} / {n_t})"),
        ("handlers", str(n_handlers)),
        ("events", str(n_events)),
        ("events by type", ", ".join(f"{k} {by_type[k]}" for k in sorted(by_type))),
        ("key proposals", str(sum(c.key for c in cases))),
        ("waived_f2f cases", str(sum(c.waived for c in cases))),
        ("holiday-adjacent cases (any of the three below)", str(len(hol_any))),
        ("  assigned ≤3 days before an official holiday", str(len(hol_assigned))),
        ("  with an event on an adjusted working weekend", str(len(hol_adjusted))),
        ("    of which signed / replies on such a day", f"{holiday_signed} / {holiday_replied}"),
        ("  3-month reply deadline on an official holiday", str(len(hol_deadline))),
        ("extension events / cases / cases with two", f"{by_type.get('extension', 0)} / {len(ext_cases)} / "
                                                      f"{len(planted.double_extension)}"),
        ("dissatisfied ratings", str(len(dissat))),
        ("handlers with a second reply / a second feedback", f"{second_reply} / {second_fb}"),
        ("urged events / cases", f"{by_type.get('urged', 0)} / {len(urged_cases)}"),
        ("returned events", str(by_type.get("returned", 0))),
        ("lead/split handlers without any reply", str(len(no_reply))),
        ("lead/split handlers replying after deadline (+extensions)", str(late)),
        ("lead/split handlers replying without prior contact", str(no_contact_first)),
        ("co handlers without co_reply (incl. returned)", str(len(no_co))),
    ]
    w = max(len(k) for k, _ in stats)
    text = "\n".join(f"{k.ljust(w)}  {v}" for k, v in stats)
    return table, text


README_TEMPLATE = """# 样例数据 Sample data: `cases-2020.jsonl`

一个城市 2020 年度人大代表建议（`suggestion`）和政协委员提案（`proposal`）办理全过程的
样例数据，格式为项目的案件交换格式（JSON Lines，每行一件，UTF-8）。数据是虚构的，
但件数、角色比例和办理作风参照了两份真实的年度办理工作总结（一个市场监管局和一个知识产权局，见 `docs/domain.md`）：

- 市市场监管局：64 件政协提案，主办/分办 26 件（主办 20、分办 6），会办 38 件，全部按时、
  全部满意；3 件委员表示电话沟通即可（`waived_f2f`）。
- 市知识产权局：36 件（建议 15 件，主办 5；提案 21 件，主办 1 留作参考），见面率、满意率、
  公开率 100%，1 件会办件仍在办理（没有 `co_reply`）。

Synthetic, deterministic sample of one city's year 2020 of handling deputies' suggestions
and CPPCC members' proposals, in the case-history interchange format. Departments differ in
diligence (`exemplary` / `good` / `average` / `weak`, see `generate.py`) so that scores spread.

## Regenerate

```
python samples/generate.py      # Python 3.11+ with chinesecalendar (pip install -e .)
scoring score --rules rules/proposal-handling.toml --cases samples/cases-2020.jsonl   # validates and scores it
python samples/make_register.py   # the same cases as an Excel register (办理台账): register-2020.xlsx
```

The output is byte-identical on every run (fixed seed {seed}, official Chinese calendar, no
current date). Do not edit `cases-2020.jsonl` or this README by hand: change `generate.py`.

## Departments (handler roles per kind)

{table}

## Totals and planted scenarios

```
{stats}
```

Planted on purpose (case ids):

- assignments just before Qingming (2020-04-03), Labour Day (2020-04-30), Dragon Boat
  (2020-06-24) and National Day (2020-09-29/30); assignments on the adjusted working days
  2020-04-26 (Sun), 2020-05-09 (Sat), 2020-10-10 (Sat); the batch of 2020-03-26 is due on
  2020-06-26 (Dragon Boat), those of 2020-07-01 / 07-06 on 2020-10-01 / 10-06 (National Day);
- replies on holiday-week deadlines: {holiday_reply}
- signed on an adjusted working weekend: {holiday_sign}
- extensions: {extension} (two extensions: {double_extension})
- dissatisfied, handled again with a second reply: {dissatisfied}
- no reply at all: {no_reply}
- returned (退办): {returned}
- `waived_f2f`: {waived}

Extra fields beyond the contract: `session` on cases and `note` on some events.
"""


def main() -> int:
    rng = random.Random(SEED)
    cases = build_skeletons(rng)
    choose_co(cases, rng)
    choose_key(cases, rng)
    assign_batches_and_ids(cases, rng)
    choose_proposers(cases, rng)
    planted = plant(cases, rng)
    cases.sort(key=lambda c: c.cid)
    for c in cases:
        simulate(c, rng)
    with OUT.open("w", encoding="utf-8", newline="\n") as f:
        for c in cases:
            f.write(case_json(c) + "\n")
    table, stats = summary(cases, planted)
    README.write_text(README_TEMPLATE.format(
        seed=SEED, table=table, stats=stats,
        **{k: ", ".join(getattr(planted, k)) for k in (
            "holiday_reply", "holiday_sign", "extension", "double_extension", "dissatisfied",
            "no_reply", "returned", "waived")}), encoding="utf-8", newline="\n")
    print(f"wrote {OUT.relative_to(HERE.parent)} ({len(cases)} cases) and {README.relative_to(HERE.parent)}")
    print()
    print(table)
    print()
    print(stats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
