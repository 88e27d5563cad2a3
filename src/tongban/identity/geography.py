"""Streets and towns (街道 / 镇) and roads of Shanghai's districts: product reference data.

Streets and towns are real subdivisions of each district with their codes from the National Bureau of
Statistics' 统计用区划代码 (2023): the district's GB/T 2260 code followed by three digits. A few of each
district are listed, not all. Roads are real roads of the district. The demo city is built on them
(``demo.reference`` re-exports both), and the hotline's routing corpus names them as places
(``hotline.corpus``), so they live here, below both, not in ``demo``.
"""

# 街道 / 镇: district code → ((street code, Chinese name, English name), ...)
STREETS: dict[str, tuple[tuple[str, str, str], ...]] = {
    "310101": (
        ("310101002", "南京东路街道", "Nanjing East Road Subdistrict"),
        ("310101013", "外滩街道", "The Bund Subdistrict"),
        ("310101018", "豫园街道", "Yuyuan Subdistrict"),
        ("310101021", "打浦桥街道", "Dapuqiao Subdistrict"),
        ("310101023", "瑞金二路街道", "Ruijin Second Road Subdistrict"),
    ),
    "310104": (
        ("310104003", "天平路街道", "Tianping Road Subdistrict"),
        ("310104011", "田林街道", "Tianlin Subdistrict"),
        ("310104014", "徐家汇街道", "Xujiahui Subdistrict"),
        ("310104016", "龙华街道", "Longhua Subdistrict"),
        ("310104103", "华泾镇", "Huajing Town"),
    ),
    "310105": (
        ("310105001", "华阳路街道", "Huayang Road Subdistrict"),
        ("310105002", "江苏路街道", "Jiangsu Road Subdistrict"),
        ("310105004", "新华路街道", "Xinhua Road Subdistrict"),
        ("310105009", "虹桥街道", "Hongqiao Subdistrict"),
        ("310105102", "新泾镇", "Xinjing Town"),
    ),
    "310106": (
        ("310106012", "南京西路街道", "Nanjing West Road Subdistrict"),
        ("310106013", "静安寺街道", "Jing'an Temple Subdistrict"),
        ("310106014", "曹家渡街道", "Caojiadu Subdistrict"),
        ("310106016", "北站街道", "Beizhan Subdistrict"),
        ("310106020", "彭浦新村街道", "Pengpu Xincun Subdistrict"),
    ),
    "310107": (
        ("310107005", "曹杨新村街道", "Caoyang Xincun Subdistrict"),
        ("310107014", "长风新村街道", "Changfeng Xincun Subdistrict"),
        ("310107015", "长寿路街道", "Changshou Road Subdistrict"),
        ("310107022", "真如镇街道", "Zhenru Town Subdistrict"),
        ("310107103", "桃浦镇", "Taopu Town"),
    ),
    "310109": (
        ("310109009", "欧阳路街道", "Ouyang Road Subdistrict"),
        ("310109010", "曲阳路街道", "Quyang Road Subdistrict"),
        ("310109017", "四川北路街道", "North Sichuan Road Subdistrict"),
        ("310109018", "北外滩街道", "North Bund Subdistrict"),
        ("310109019", "江湾镇街道", "Jiangwan Town Subdistrict"),
    ),
    "310110": (
        ("310110001", "定海路街道", "Dinghai Road Subdistrict"),
        ("310110006", "平凉路街道", "Pingliang Road Subdistrict"),
        ("310110016", "殷行街道", "Yinhang Subdistrict"),
        ("310110019", "五角场街道", "Wujiaochang Subdistrict"),
        ("310110020", "新江湾城街道", "Xinjiangwancheng Subdistrict"),
    ),
    "310112": (
        ("310112001", "江川路街道", "Jiangchuan Road Subdistrict"),
        ("310112006", "古美街道", "Gumei Subdistrict"),
        ("310112101", "莘庄镇", "Xinzhuang Town"),
        ("310112102", "七宝镇", "Qibao Town"),
        ("310112114", "浦江镇", "Pujiang Town"),
    ),
    "310113": (
        ("310113003", "友谊路街道", "Youyi Road Subdistrict"),
        ("310113007", "吴淞街道", "Wusong Subdistrict"),
        ("310113101", "罗店镇", "Luodian Town"),
        ("310113102", "大场镇", "Dachang Town"),
        ("310113109", "顾村镇", "Gucun Town"),
    ),
    "310114": (
        ("310114001", "新成路街道", "Xincheng Road Subdistrict"),
        ("310114004", "嘉定镇街道", "Jiading Town Subdistrict"),
        ("310114102", "南翔镇", "Nanxiang Town"),
        ("310114103", "安亭镇", "Anting Town"),
        ("310114118", "江桥镇", "Jiangqiao Town"),
    ),
    "310115": (
        ("310115005", "陆家嘴街道", "Lujiazui Subdistrict"),
        ("310115008", "塘桥街道", "Tangqiao Subdistrict"),
        ("310115016", "花木街道", "Huamu Subdistrict"),
        ("310115103", "川沙新镇", "Chuansha New Town"),
        ("310115125", "张江镇", "Zhangjiang Town"),
        ("310115131", "惠南镇", "Huinan Town"),
    ),
    "310116": (
        ("310116001", "石化街道", "Shihua Subdistrict"),
        ("310116101", "朱泾镇", "Zhujing Town"),
        ("310116102", "枫泾镇", "Fengjing Town"),
        ("310116104", "亭林镇", "Tinglin Town"),
        ("310116109", "金山卫镇", "Jinshanwei Town"),
    ),
    "310117": (
        ("310117001", "岳阳街道", "Yueyang Subdistrict"),
        ("310117003", "方松街道", "Fangsong Subdistrict"),
        ("310117102", "泗泾镇", "Sijing Town"),
        ("310117103", "佘山镇", "Sheshan Town"),
        ("310117107", "九亭镇", "Jiuting Town"),
    ),
    "310118": (
        ("310118001", "夏阳街道", "Xiayang Subdistrict"),
        ("310118002", "盈浦街道", "Yingpu Subdistrict"),
        ("310118102", "朱家角镇", "Zhujiajiao Town"),
        ("310118105", "赵巷镇", "Zhaoxiang Town"),
        ("310118106", "徐泾镇", "Xujing Town"),
    ),
    "310120": (
        ("310120001", "西渡街道", "Xidu Subdistrict"),
        ("310120002", "奉浦街道", "Fengpu Subdistrict"),
        ("310120101", "南桥镇", "Nanqiao Town"),
        ("310120102", "奉城镇", "Fengcheng Town"),
        ("310120118", "柘林镇", "Zhelin Town"),
    ),
    "310151": (
        ("310151101", "城桥镇", "Chengqiao Town"),
        ("310151102", "堡镇", "Baozhen Town"),
        ("310151110", "陈家镇", "Chenjia Town"),
        ("310151116", "长兴镇", "Changxing Town"),
        ("310151202", "横沙乡", "Hengsha Township"),
    ),
}

# Roads of each district used in the invented addresses.
ROADS: dict[str, tuple[str, ...]] = {
    "310101": ("南京东路", "九江路", "河南中路", "复兴中路", "淮海中路", "西藏南路"),
    "310104": ("衡山路", "漕溪北路", "天钥桥路", "宜山路", "龙华中路", "田林路"),
    "310105": ("延安西路", "愚园路", "新华路", "天山路", "仙霞路", "虹桥路"),
    "310106": ("南京西路", "江宁路", "共和新路", "天目西路", "临汾路", "万航渡路"),
    "310107": ("曹杨路", "长寿路", "武宁路", "真北路", "金沙江路", "桃浦路"),
    "310109": ("四川北路", "东大名路", "欧阳路", "曲阳路", "大连西路", "广中路"),
    "310110": ("平凉路", "控江路", "四平路", "国权路", "淞沪路", "殷行路"),
    "310112": ("沪闵路", "七莘路", "漕宝路", "江川路", "浦锦路", "古美路"),
    "310113": ("友谊路", "牡丹江路", "同济路", "沪太路", "泰和路"),
    "310114": ("博乐路", "城中路", "沪宜公路", "墨玉路", "曹安公路"),
    "310115": ("世纪大道", "张杨路", "浦东南路", "花木路", "川沙路", "祖冲之路"),
    "310116": ("卫零路", "蒙山路", "亭卫公路", "朱枫公路"),
    "310117": ("人民北路", "荣乐东路", "中山东路", "泗陈公路", "沪松公路"),
    "310118": ("公园路", "盈港东路", "崧泽大道", "沪青平公路", "外青松公路"),
    "310120": ("环城东路", "金海公路", "南奉公路", "望园路"),
    "310151": ("八一路", "陈海公路", "北沿公路", "崇明大道"),
}
