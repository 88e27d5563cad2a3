"""The English of the demo catalogue's texts (the ``*_en`` fields an English page shows), by Chinese text.

Written by hand for the demo city, not machine-translated: laws by their usual English titles, articles as
"Art.", procedure steps one a line as in Chinese. :mod:`tongban.demo.catalog` looks each text up here; a text
with no entry is left without English (the page falls back to the Chinese), and a test lists any such gap.
"""

# One law or regulation a line of ``legal_basis``.
LEGAL_BASES_EN = {
    "《上海市城乡居民基本医疗保险办法》": "Shanghai Measures on Basic Medical Insurance for Urban and Rural Residents",
    "《上海市城乡规划条例》": "Shanghai Urban and Rural Planning Regulations",
    "《上海市城市道路管理条例》": "Shanghai Urban Road Management Regulations",
    "《上海市城镇生育保险办法》": "Shanghai Measures on Urban Maternity Insurance",
    "《上海市学前教育与托育服务条例》": "Shanghai Regulations on Pre-school Education and Childcare Services",
    "《上海市实施〈中华人民共和国义务教育法〉办法》": (
        "Shanghai Measures for Implementing the Compulsory Education Law of the PRC"
    ),
    "《上海市居住证管理办法》": "Shanghai Measures on the Administration of Residence Permits",
    "《上海市常住户口管理规定》": "Shanghai Provisions on Permanent Household Registration",
    "《上海市户外广告设施管理办法》": "Shanghai Measures on Outdoor Advertising Installations",
    "《上海市房地产转让办法》": "Shanghai Measures on the Transfer of Real Estate",
    "《上海市社会救助条例》": "Shanghai Social Assistance Regulations",
    "《上海市老年人权益保障条例》": "Shanghai Regulations on the Protection of the Rights of Older People",
    "《上海市老年综合津贴管理办法》": "Shanghai Measures on the Comprehensive Allowance for Older People",
    "《不动产登记暂行条例》第十四条、第二十条": "Interim Regulations on Real Estate Registration, Art. 14 and 20",
    "《不动产登记暂行条例实施细则》": "Implementing Rules of the Interim Regulations on Real Estate Registration",
    "《个人所得税综合所得汇算清缴管理办法》": (
        "Measures on the Annual Reconciliation of Individual Income Tax on Comprehensive Income"
    ),
    "《中华人民共和国个人所得税法》第二条、第十一条、第十四条": (
        "Individual Income Tax Law of the PRC, Art. 2, 11 and 14"
    ),
    "《中华人民共和国个人所得税法实施条例》第二十五条": (
        "Regulations for the Implementation of the Individual Income Tax Law of the PRC, Art. 25"
    ),
    "《中华人民共和国义务教育法》第十一条、第十二条": "Compulsory Education Law of the PRC, Art. 11 and 12",
    "《中华人民共和国公司法》第二十九条": "Company Law of the PRC, Art. 29",
    "《中华人民共和国出境入境管理法》第九条": "Exit and Entry Administration Law of the PRC, Art. 9",
    "《中华人民共和国医师法》第十三条": "Physicians Law of the PRC, Art. 13",
    "《中华人民共和国城乡规划法》第四十条": "Urban and Rural Planning Law of the PRC, Art. 40",
    "《中华人民共和国城市房地产管理法》第四十一条": "Urban Real Estate Administration Law of the PRC, Art. 41",
    "《中华人民共和国城市房地产管理法》第四十五条": "Urban Real Estate Administration Law of the PRC, Art. 45",
    "《中华人民共和国契税法》": "Deed Tax Law of the PRC",
    "《中华人民共和国学前教育法》": "Pre-school Education Law of the PRC",
    "《中华人民共和国就业促进法》第四十二条": "Employment Promotion Law of the PRC, Art. 42",
    "《中华人民共和国居民身份证法》第五条、第十一条": "Resident Identity Card Law of the PRC, Art. 5 and 11",
    "《中华人民共和国市场主体登记管理条例》第三条": "Regulations of the PRC on the Registration of Market Entities, Art. 3",
    "《中华人民共和国市场主体登记管理条例》第三条、第二十一条": (
        "Regulations of the PRC on the Registration of Market Entities, Art. 3 and 21"
    ),
    "《中华人民共和国市场主体登记管理条例实施细则》": (
        "Implementing Rules of the Regulations of the PRC on the Registration of Market Entities"
    ),
    "《中华人民共和国广告法》第四十一条": "Advertising Law of the PRC, Art. 41",
    "《中华人民共和国户口登记条例》第七条": "Household Registration Regulations of the PRC, Art. 7",
    "《中华人民共和国护照法》第五条、第六条": "Passport Law of the PRC, Art. 5 and 6",
    "《中华人民共和国旅游法》第二十八条": "Tourism Law of the PRC, Art. 28",
    "《中华人民共和国母婴保健法》第二十三条": "Law of the PRC on Maternal and Infant Health Care, Art. 23",
    "《中华人民共和国母婴保健法实施办法》第二十四条": (
        "Measures for the Implementation of the Law on Maternal and Infant Health Care, Art. 24"
    ),
    "《中华人民共和国民法典》第一千零四十九条": "Civil Code of the PRC, Art. 1049",
    "《中华人民共和国民法典》第二百零九条、第二百一十条": "Civil Code of the PRC, Art. 209 and 210",
    "《中华人民共和国消防法》第十五条": "Fire Protection Law of the PRC, Art. 15",
    "《中华人民共和国环境保护法》第四十五条": "Environmental Protection Law of the PRC, Art. 45",
    "《中华人民共和国社会保险法》第三十二条": "Social Insurance Law of the PRC, Art. 32",
    "《中华人民共和国社会保险法》第二十五条": "Social Insurance Law of the PRC, Art. 25",
    "《中华人民共和国社会保险法》第五十八条": "Social Insurance Law of the PRC, Art. 58",
    "《中华人民共和国社会保险法》第五十四条、第五十六条": "Social Insurance Law of the PRC, Art. 54 and 56",
    "《中华人民共和国社会保险法》第十条、第二十三条": "Social Insurance Law of the PRC, Art. 10 and 23",
    "《中华人民共和国社会保险法》第五十七条": "Social Insurance Law of the PRC, Art. 57",
    "《中华人民共和国税收征收管理法》第二十五条": "Law of the PRC on the Administration of Tax Collection, Art. 25",
    "《中华人民共和国老年人权益保障法》第三十三条": (
        "Law of the PRC on the Protection of the Rights and Interests of Older People, Art. 33"
    ),
    "《中华人民共和国道路交通安全法》第三十二条": "Road Traffic Safety Law of the PRC, Art. 32",
    "《中华人民共和国道路交通安全法》第十九条": "Road Traffic Safety Law of the PRC, Art. 19",
    "《中华人民共和国食品安全法》第三十五条": "Food Safety Law of the PRC, Art. 35",
    "《促进个体工商户发展条例》": "Regulations on Promoting the Development of Individual Businesses",
    "《医师执业注册管理办法》": "Measures on the Registration of Physicians' Practice",
    "《国家卫生健康委关于做好出生医学证明管理工作的通知》": (
        "Notice of the National Health Commission on the Administration of Birth Medical Certificates"
    ),
    "《城市商品房预售管理办法》第六条、第七条": "Measures on the Pre-sale of Urban Commercial Housing, Art. 6 and 7",
    "《城市市容和环境卫生管理条例》第十一条": (
        "Regulations on the Administration of City Appearance and Environmental Sanitation, Art. 11"
    ),
    "《城市道路管理条例》第三十一条": "Urban Road Management Regulations, Art. 31",
    "《城市道路管理条例》第三十三条": "Urban Road Management Regulations, Art. 33",
    "《城镇排水与污水处理条例》第二十一条": "Regulations on Urban Drainage and Sewage Treatment, Art. 21",
    "《城镇污水排入排水管网许可管理办法》": (
        "Measures on Permits for Discharging Urban Sewage into the Drainage Network"
    ),
    "《基本医疗保障关系转移接续暂行办法》": "Interim Measures on Transferring Basic Medical Insurance Records",
    "《婚姻登记条例》第四条至第七条": "Marriage Registration Regulations, Art. 4 to 7",
    "《就业服务与就业管理规定》第六十一条至第六十三条": (
        "Provisions on Employment Services and Employment Management, Art. 61 to 63"
    ),
    "《居住证暂行条例》第二条、第九条": "Interim Regulations on Residence Permits, Art. 2 and 9",
    "《居民身份证申领登记工作规范》": "Working Rules for Applying for and Registering Resident Identity Cards",
    "《房地产经纪管理办法》第二十四条": "Measures on the Administration of Real Estate Brokerage, Art. 24",
    "《排污许可管理条例》第五条、第十四条": "Regulations on the Administration of Pollutant Discharge Permits, Art. 5 and 14",
    "《旅行社条例》第六条、第七条": "Regulations on Travel Agencies, Art. 6 and 7",
    "《机动车驾驶证申领和使用规定》": "Provisions on Applying for and Using Motor Vehicle Driving Licences",
    "《消防监督检查规定》": "Provisions on Fire-safety Supervision and Inspection",
    "《社会保险费征缴暂行条例》": "Interim Regulations on the Collection of Social Insurance Contributions",
    "《社会保障卡管理办法》": "Measures on the Administration of Social Security Cards",
    "《社会救助暂行办法》第四十七条至第五十条": "Interim Measures on Social Assistance, Art. 47 to 50",
    "《营业性演出管理条例》第十三条": "Regulations on the Administration of Commercial Performances, Art. 13",
    "《营业性演出管理条例实施细则》": "Implementing Rules of the Regulations on Commercial Performances",
    "《财政部 税务总局关于契税法实施后有关优惠政策衔接问题的公告》": (
        "Announcement of the Ministry of Finance and the State Taxation Administration on Preferential Policies "
        "after the Deed Tax Law Took Effect"
    ),
    "《食品经营许可和备案管理办法》": "Measures on Food Business Licensing and Filing",
}

# One step a line of ``procedure``.
STEPS_EN = {
    "“交管12123”App申请": "Apply in the Traffic Management 12123 app",
    "“移民局”App预约": "Book an appointment in the National Immigration Administration app",
    "个人所得税App或网上申报": "File in the Individual Income Tax app or online",
    "买卖双方在线签订买卖合同": "Buyer and seller sign the sale contract online",
    "会同公安交管部门审查": "Review together with the traffic police",
    "作出许可决定": "Decision on the permit",
    "作出许可决定并公告": "Decision on the permit, made public",
    "公办学校对口入学或民办学校摇号": "Catchment public school, or a lottery for private schools",
    "公示": "Public notice",
    "内容审核": "Review of the content",
    "出入境窗口受理并采集指纹": "Application at an exit-entry window, fingerprints taken",
    "制卡": "Card production",
    "制证": "Document production",
    "办结后户口簿增页邮寄送达": "The new page of the household register is posted to you",
    "助产机构核对出生医学记录": "The maternity hospital checks the birth record",
    "医保经办机构审核": "Review by the medical insurance agency",
    "医保经办机构核定参保信息": "The medical insurance agency confirms the enrolment details",
    "卫生健康部门审核": "Review by the health commission",
    "即时审核": "Immediate review",
    "双方到场提交证件": "Both parties come in with their documents",
    "发放不动产权证书": "Real-estate title certificate issued",
    "发放合格证": "Inspection certificate issued",
    "发放录取通知": "Admission notice sent",
    "发放电子营业执照": "Electronic business licence issued",
    "发放电子许可证": "Electronic permit issued",
    "发放至本人银行账户": "Paid into your own bank account",
    "发放至社会保障卡银行账户": "Paid into the bank account of your social security card",
    "发放许可证": "Permit issued",
    "受理": "Acceptance",
    "合同备案并生成备案证明": "Contract filed and filing certificate produced",
    "名称自主申报": "Declare the company name yourself",
    "告知承诺当场许可或现场检查": "Permit on the spot on a written pledge, or an on-site inspection",
    "国家医保服务平台申请": "Apply on the National Medical Insurance Service Platform",
    "国库退库到账": "Refund paid from the state treasury",
    "在线填报设立登记信息": "Fill in the registration details online",
    "审批": "Approval",
    "审批发放": "Approval and payment",
    "审查": "Review",
    "审查设计方案": "Review of the design scheme",
    "审查（必要时现场核查）": "Review (with an on-site check if needed)",
    "审核": "Review",
    "审核体检信息": "Review of the medical check results",
    "家庭经济状况核对": "Check of the family's finances",
    "开具完税证明": "Tax payment certificate issued",
    "当场审查并签署声明": "Review on the spot and signing of the declaration",
    "户籍民警审核": "Review by the household registration officer",
    "执业机构确认": "Confirmation by the practice institution",
    "技术审查": "Technical review",
    "按区政策安排入园": "Place allocated by the district's rules",
    "材料审查，必要时现场核查": "Review of the materials, with an on-site check if needed",
    "核发排污许可证": "Pollutant discharge permit issued",
    "核发电子营业执照，纸质执照可邮寄": "Electronic business licence issued; the paper licence can be posted",
    "核发电子证照": "Electronic certificate issued",
    "核定津贴金额": "Allowance amount set",
    "核对参保信息": "Check of the insurance details",
    "核验户籍与参保状态": "Check of household registration and insurance status",
    "注册": "Registration",
    "现场采集人像指纹": "Photo and fingerprints taken in person",
    "现场验证": "Documents checked in person",
    "电子化注册系统申请": "Apply in the electronic registration system",
    "登簿": "Entry in the register",
    "登记参保并告知缴费方式": "Enrolment recorded and how to pay explained",
    "登记参保并签订缴费协议": "Enrolment recorded and payment agreement signed",
    "登记审核": "Registration review",
    "登记并提供就业服务": "Registration and employment services",
    "登记机关审核": "Review by the registration authority",
    "确认申报并申请退税": "Confirm the return and claim the refund",
    "税务审核": "Review by the tax bureau",
    "窗口受理并核验身份": "Acceptance at a window and identity check",
    "签发电子出生医学证明": "Electronic birth medical certificate issued",
    "系统核验参保与就业状态": "The system checks insurance and employment status",
    "系统核验房屋状态与购房资格": "The system checks the home's status and the buyer's eligibility",
    "系统计算应纳税额并核定优惠": "The system computes the tax due and any relief",
    "系统预填收入和扣除": "The system prefills income and deductions",
    "纸质证明由助产机构发放": "The paper certificate is handed out by the maternity hospital",
    "缴纳登记费": "Registration fee paid",
    "缴纳税款": "Tax paid",
    "网上入园信息登记": "Register for kindergarten online",
    "网上入学信息登记": "Register for school online",
    "网上申报": "File online",
    "网上申请": "Apply online",
    "网上申请并填写新生儿姓名": "Apply online and give the baby's name",
    "网上申请或系统主动推送": "Apply online, or the platform offers it to you",
    "网上预约": "Book an appointment online",
    "网上预约或申请": "Book or apply online",
    "街道受理并入户调查": "Acceptance by the street office and a home visit",
    "街道审核": "Review by the street office",
    "身份实名认证并电子签名": "Identity verification and electronic signature",
    "转入地接续并合并缴费年限": "The new place continues the insurance and adds up the contribution years",
    "转出地开具参保凭证": "The old place issues proof of insurance",
    "邮寄送达": "Posted to you",
    "邮寄送达并开通电子社保卡": "Posted to you, and the electronic social security card activated",
    "颁发结婚证": "Marriage certificate issued",
    "营业执照信息自动预填": "Prefilled from the business licence",
    "网上确认并提交": "Confirm and submit online",
    "核发单位社保编号": "The employer's social-insurance number is issued",
    "领取或邮寄": "Collect it, or have it posted",
}

# Whole texts: conditions, where to apply, results, fee bases, reasons for visits, bundle descriptions, and the
# materials' notes and conditions.
TEXTS_EN = {
    "“一网通办”开办企业平台或区行政服务中心": (
        "The one-network business start-up platform, or a district administrative service centre"
    ),
    "“交管12123”App；车管所": "The Traffic Management 12123 app; a vehicle administration office",
    "《国家发展改革委 财政部关于不动产登记收费标准等有关问题的通知》（发改价格规〔2016〕2559号）：住宅类不动产登记收费标准为每件80元": (
        "Notice of the National Development and Reform Commission and the Ministry of Finance on Real Estate "
        "Registration Fees (NDRC Price Rule [2016] No. 2559): 80 yuan per registration of a home"
    ),
    "《国家发展改革委 财政部关于居民身份证收费标准及有关问题的通知》（发改价格〔2003〕2322号）：换领居民身份证每证20元": (
        "Notice of the National Development and Reform Commission and the Ministry of Finance on Resident ID "
        "Card Fees (NDRC Price [2003] No. 2322): 20 yuan per renewed card"
    ),
    "《国家发展改革委 财政部关于降低部分行政事业性收费标准的通知》（发改价格〔2019〕914号）：普通护照每本120元": (
        "Notice of the National Development and Reform Commission and the Ministry of Finance on Lowering "
        "Some Administrative Fees (NDRC Price [2019] No. 914): 120 yuan per ordinary passport"
    ),
    "上海市居住证": "Shanghai residence permit",
    "不动产权证书（电子证照）": "Real-estate title certificate (e-licence)",
    "个人所得税App；各区办税服务厅": "The Individual Income Tax app; the district tax service halls",
    "中华人民共和国居民身份证": "Resident identity card of the PRC",
    "中华人民共和国普通护照": "Ordinary passport of the PRC",
    "中国公民因前往外国定居、探亲、学习、就业、旅行、从事商务活动等非公务原因出国的。": (
        "Chinese citizens going abroad for private reasons: to settle, visit family, study, work, travel or do "
        "business."
    ),
    "临时救助决定及发放通知": "Decision on temporary assistance and notice of payment",
    "买卖双方到不动产登记窗口现场核验身份并签署询问笔录（选择线上人脸核验的可免到场）": (
        "Buyer and seller come to a real estate registration window to have their identity checked and sign "
        "the interview record (not needed if you choose online face verification)"
    ),
    "买卖双方现场核验身份并签署询问笔录（选择线上人脸核验的可免到场）": (
        "Buyer and seller have their identity checked in person and sign the interview record (not needed if "
        "you choose online face verification)"
    ),
    "从事工业、建筑、餐饮、医疗等活动向城镇排水设施排放污水的排水户。": (
        "Dischargers whose industrial, construction, catering, medical or similar activities release "
        "wastewater into the city's drainage."
    ),
    "依法须男女双方亲自到婚姻登记机关共同申请并当场签字": (
        "By law both partners apply together in person at the marriage registry and sign there"
    ),
    "入园录取通知": "Kindergarten admission notice",
    "入学登记验证结果及录取通知": "Result of the enrolment check and admission notice",
    "公众聚集场所投入使用、营业前消防安全检查合格证": (
        "Fire-safety inspection certificate for a public venue before it opens for business"
    ),
    "具有与经营食品品种、数量相适应的场所、设备、人员和管理制度。": (
        "Premises, equipment, staff and management rules suited to the kinds and quantities of food sold."
    ),
    "具有本市户籍、年满65周岁的老年人。": "Residents with a Shanghai household registration aged 65 or over.",
    "具有本市户籍的新生儿，或符合条件的非本市户籍人员；新生儿出生后三个月内登记的，自出生之日起享受待遇。": (
        "Newborns with a Shanghai household registration, or eligible residents registered elsewhere; a "
        "newborn enrolled within three months of birth is covered from the day of birth."
    ),
    "具有本市户籍，在法定劳动年龄内从事灵活就业的人员。": (
        "People with a Shanghai household registration of working age in flexible employment."
    ),
    "出生医学证明（电子证照）": "Birth medical certificate (e-licence)",
    "到对口学校现场验证户籍和居住材料原件": (
        "Show the originals of your household registration and residence documents at the catchment school"
    ),
    "到登记幼儿园现场验证户籍和居住材料原件": (
        "Show the originals of your household registration and residence documents at the kindergarten"
    ),
    "医保关系转移接续记录": "Record of the transferred medical insurance",
    "医师执业证书（电子化注册）": "Physician practice certificate (electronic registration)",
    "占用道路施工许可决定书": "Decision permitting construction on the road",
    "参加本市职工基本医疗保险（生育保险）并按规定缴费，符合法律法规规定生育的女职工。": (
        "Women employees insured under Shanghai's employee medical (maternity) insurance, with contributions "
        "paid, who give birth as the law provides."
    ),
    "取得企业法人资格，有固定经营场所、必要营业设施，缴纳旅游服务质量保证金。": (
        "A legal-person enterprise with fixed premises and the necessary facilities that has paid the tourism "
        "service quality deposit."
    ),
    "取得医师资格，拟在医疗、预防、保健机构中执业。": (
        "Qualified physicians who intend to practise in a medical, preventive or health-care institution."
    ),
    "各区不动产登记事务中心": "The district real estate registration centres",
    "各区交通行政管理部门": "The district transport authorities",
    "各区住房城乡建设管理委员会": "The district housing and urban-rural construction commissions",
    "各区医保事务中心": "The district medical insurance centres",
    "各区婚姻登记处": "The district marriage registries",
    "各区市场监督管理局": "The district market regulation bureaus",
    "各区市场监督管理局、社区事务受理服务中心": (
        "The district market regulation bureaus and the community affairs service centres"
    ),
    "各区房地产交易中心": "The district real estate trading centres",
    "各区消防救援支队": "The district fire and rescue detachments",
    "各区税务局办税服务厅": "The tax service halls of the district tax bureaus",
    "各区绿化市容管理局": "The district greening and city appearance bureaus",
    "各区道路管理部门": "The district road authorities",
    "各社区事务受理服务中心": "Any community affairs service centre",
    "商品房预售许可证": "Commercial housing pre-sale permit",
    "因工程建设需要临时占用城市道路的单位或个人。": (
        "Organisations or individuals who must occupy a city road for a while for construction work."
    ),
    "因工程建设需要挖掘城市道路的单位。": "Organisations that must dig up a city road for construction work.",
    "因突发事件、意外伤害、重大疾病等导致基本生活暂时出现严重困难的家庭或个人。": (
        "Families or individuals whose basic living is in temporary serious hardship after an emergency, an "
        "accident, a serious illness or the like."
    ),
    "在城市、镇规划区内进行建筑物、构筑物、道路、管线和其他工程建设的。": (
        "Building, structure, road, pipeline and other construction inside a city's or town's planning area."
    ),
    "在本市具有助产技术服务资质的医疗机构内出生的新生儿；新生儿已确定姓名。": (
        "Babies born in a Shanghai medical institution licensed for midwifery; the baby's name has been chosen."
    ),
    "在本市境内转移土地、房屋权属的承受人。": "Those who acquire land or housing in Shanghai.",
    "城乡居民医保参保登记记录": "Record of enrolment in the residents' medical insurance",
    "城市道路挖掘许可决定书": "Decision permitting the excavation of a city road",
    "城镇污水排入排水管网许可证": "Permit to discharge wastewater into the city's drainage network",
    "失业登记记录（电子《就业失业登记证》）": (
        "Unemployment registration record (electronic employment and unemployment registration certificate)"
    ),
    "契税完税证明": "Deed-tax payment certificate",
    "婴儿出生后一个月以内，由户主、亲属、抚养人或者邻居向婴儿常住地户口登记机关申报出生登记。": (
        "Within one month of the birth, the head of the household, a relative, a carer or a neighbour "
        "registers the baby with the household registration office of the baby's place of residence."
    ),
    "存量房买卖一次申请：网签备案、契税申报和不动产转移登记并联办理，信息一次采集、材料一套共享，办结后发放电子不动产权证书。": (
        "Buying a resale home in one application: the online contract filing, the deed tax declaration and "
        "the transfer registration are handled side by side, the details are given once and one set of "
        "materials is shared; at the end you receive an electronic real-estate title certificate."
    ),
    "存量房买卖合同网签备案证明": "Online filing certificate of the resale contract",
    "宾馆、饭店、商场、集贸市场、客运车站候车室、体育场馆、会堂、公共娱乐场所等公众聚集场所。": (
        "Public venues such as hotels, restaurants, shopping centres, markets, station waiting rooms, "
        "stadiums, halls and places of entertainment."
    ),
    "对口公办小学": "The catchment public primary school",
    "居住地对口幼儿园": "The catchment kindergarten of your residence",
    "居住地社区事务受理服务中心": "The community affairs service centre where you live",
    "居民户口簿（新生儿登记页）": "Household register (the newborn's page)",
    "居民身份证有效期满、证件损坏或登记项目变更的本市户籍居民；在沪居住的外省市居民可异地换领。": (
        "Shanghai residents whose ID card has expired, is damaged or whose registered details changed; "
        "residents of other provinces living in Shanghai may renew here."
    ),
    "已交付全部土地使用权出让金，持有规划和施工许可证，投入开发建设资金达到工程建设总投资的25%以上。": (
        "The land-use fee is paid in full, the planning and construction permits are held, and at least 25% "
        "of the total investment has been spent on the construction."
    ),
    "已参加本市社会保险或城乡居民医保的人员（含新生儿）。": (
        "People insured under Shanghai's social insurance or residents' medical insurance (newborns included)."
    ),
    "市、区公安出入境接待大厅": "The city's and districts' exit-entry service halls",
    "市、区卫生健康委员会": "The city and district health commissions",
    "市、区文化和旅游局": "The city and district culture and tourism bureaus",
    "市、区规划资源局": "The city and district planning and natural resources bureaus",
    "市文化和旅游局": "Shanghai Municipal Administration of Culture and Tourism",
    "市水务局、各区水务局": "The city's and the districts' water authorities",
    "市生态环境局": "Shanghai Municipal Bureau of Ecology and Environment",
    "年满6周岁的适龄儿童（当年8月31日前满6周岁）。": "Children who turn 6 by 31 August of the year.",
    "建设工程规划许可证": "Construction project planning permit",
    "当年8月31日前满3周岁的适龄幼儿。": "Children who turn 3 by 31 August of the year.",
    "户外广告设施设置许可决定书": "Decision permitting an outdoor advertising installation",
    "户籍所在地公安派出所": "The police station of your household registration",
    "户籍所在地或居住地公安派出所": "The police station of your household registration or of your residence",
    "户籍所在地社区事务受理服务中心": "The community affairs service centre of your household registration",
    "房屋已办理网签备案并完税；不动产未被查封、未设抵押或抵押权人同意转让。": (
        "The contract is filed online and the tax paid; the property is not seized, and not mortgaged or the "
        "mortgagee agrees to the transfer."
    ),
    "房屋已取得不动产权证书、未被查封；买方符合本市住房限购政策。": (
        "The home has a real-estate title certificate and is not seized; the buyer meets Shanghai's "
        "home-purchase rules."
    ),
    "排污许可证": "Pollutant discharge permit",
    "文艺表演团体、演出经纪机构在本市举办营业性演出。": (
        "Performing troupes and performance agencies holding commercial performances in Shanghai."
    ),
    "新生儿出生后，一次填报、一次提交，即可办理出生医学证明、出生户口登记、城乡居民医保参保登记和社会保障卡申领；出生医学证明签发后自动流转，户口簿增页和社保卡邮寄到家。": (
        "After a baby is born, one form and one submission cover the birth medical certificate, the household "
        "registration, the residents' medical insurance and the social security card; once the birth "
        "certificate is issued the case moves on by itself, and the household register page and the card are "
        "posted to your home."
    ),
    "新生儿出生的助产机构": "The maternity hospital where the baby was born",
    "旅行社业务经营许可证": "Travel agency business licence",
    "有经营能力的自然人；经营范围不属于禁止个体经营的行业。": (
        "A person able to run a business, in a trade open to individual businesses."
    ),
    "机动车驾驶证有效期满前九十日内。": "Within ninety days before the driving licence expires.",
    "机动车驾驶证（含电子驾驶证）": "Driving licence (with the electronic driving licence)",
    "法定劳动年龄内、有劳动能力、有就业要求、处于无业状态的本市户籍或常住人员。": (
        "Shanghai residents of working age, able and willing to work, who are without a job."
    ),
    "现场采集人像和指纹信息（新证可选择邮寄送达）": (
        "Photo and fingerprints are taken in person (the new card can be posted to you)"
    ),
    "现场采集指纹并核验人像（证件可邮寄送达）": (
        "Fingerprints are taken and your photo checked in person (the passport can be posted to you)"
    ),
    "生育津贴核定结果及发放通知": "Maternity allowance decision and notice of payment",
    "申请人具备设立企业的条件，企业名称经自主申报通过。": (
        "The applicant meets the conditions for setting up an enterprise, and its declared name was accepted."
    ),
    "男年满22周岁、女年满20周岁；双方自愿；均无配偶；无禁止结婚的亲属关系。": (
        "The man is at least 22 and the woman at least 20; both consent; neither is married; they are not "
        "related in a way that forbids marriage."
    ),
    "社会保险登记记录": "Social insurance registration record",
    "单位社会保险登记记录": "Employer social-insurance registration record",
    "在本市依法设立的企业，自成立之日起三十日内办理社会保险登记。": (
        "Enterprises set up in Shanghai register for social insurance within thirty days of their founding."
    ),
    "各区社会保险事业管理中心": "The district social insurance centres",
    "社会保障卡（含电子社保卡）": "Social security card (with the electronic card)",
    "离开常住户口所在地，在本市居住半年以上，并符合有合法稳定就业、合法稳定住所、连续就读条件之一。": (
        "Living in Shanghai for at least six months away from your place of household registration, with "
        "lawful stable employment, a lawful stable residence or continuous study."
    ),
    "符合本市户外广告设施设置规划和技术规范。": (
        "The installation follows Shanghai's outdoor advertising plan and technical rules."
    ),
    "纳入固定污染源排污许可分类管理名录，实行重点管理或简化管理的排污单位。": (
        "Dischargers listed in the classification of fixed pollution sources under key or simplified "
        "management."
    ),
    "纳税年度内取得综合所得，预缴税额高于应纳税额，次年3月1日至6月30日办理。": (
        "You had comprehensive income in the tax year and prepaid more tax than was due; file between 1 March "
        "and 30 June of the following year."
    ),
    "结婚证": "Marriage certificate",
    "老年综合津贴发放通知": "Notice of payment of the allowance for older people",
    "营业性演出批准文件": "Approval of the commercial performance",
    "营业执照（个体工商户）": "Business licence (individual business)",
    "营业执照（含电子营业执照）": "Business licence (with the electronic business licence)",
    "街道（乡镇）社区事务受理服务中心": "The community affairs service centre of the street (town)",
    "跨统筹地区流动就业并参加基本医疗保险的人员。": (
        "Insured people who move for work between medical insurance regions."
    ),
    "退税到账通知": "Notice that the refund was paid",
    "食品经营许可证": "Food business licence",
    "首次申领时现场采集人像和指纹信息，可在受理时一并领取（亦可邮寄）": (
        "On a first application your photo and fingerprints are taken in person; you can collect the permit "
        "then (or have it posted)"
    ),
    # materials' conditions and notes
    "买方为非本市户籍家庭的": "When the buyer's family is not registered in Shanghai",
    "以就业为申领条件的": "When you apply on the ground of employment",
    "以就读为申领条件的": "When you apply on the ground of study",
    "依法需要进行环境影响评价的建设项目": "For projects that by law need an environmental impact assessment",
    "全国排污许可证管理信息平台填报": "Filled in on the national pollutant discharge permit platform",
    "全国通办试点地区可凭身份证办理": "In pilot areas of nationwide handling the ID card is enough",
    "列入重点排污单位名录的": "When the discharger is on the list of key dischargers",
    "医疗机构体检结果联网推送": "The medical check result is sent by the clinic over the network",
    "卫生健康部门共享查验": "Checked through the health commission's shared data",
    "可现场拍摄或上传照相馆回执": "Taken on the spot, or upload a photo studio's receipt",
    "告知承诺方式办理的当场作出许可": "On a written pledge, the permit is granted on the spot",
    "因突发事件、意外伤害或重大疾病申请的": "When applying because of an emergency, an accident or a serious illness",
    "在线填报自动生成": "Produced from what you fill in online",
    "在线签署": "Signed online",
    "委托他人代为办理的": "When someone applies on your behalf",
    "房屋为夫妻共同财产的": "When the home is joint marital property",
    "所填父母与申请人的婚姻登记不一致的": (
        "When the parents named are not the applicant and the applicant's spouse in the marriage register"
    ),
    "持有未过期旧护照的": "When you hold a passport that has not expired",
    "新生儿可免交照片，满16周岁换卡时补采": "No photo needed for a newborn; it is taken when the card is renewed at 16",
    "有就业经历的": "When you have worked before",
    "本市房产和租赁备案信息共享获取": "Obtained from Shanghai's property and lease filing records",
    "父母已办理结婚登记的": "When the parents have registered their marriage",
    "父母未办理结婚登记的": "When the parents have not registered their marriage",
    "现场签署": "Signed in person",
    "由助产机构通过系统推送至卫生健康部门，申请人无需提交": (
        "Sent by the maternity hospital to the health commission; you need not submit it"
    ),
    "由用人单位网上退工后共享获取": "Obtained from the records once the employer has filed the end of the job online",
    "申报专项附加扣除且税务机关要求留存备查的": (
        "When you claim special additional deductions and the tax bureau asks you to keep proof"
    ),
    "申请家庭唯一住房或第二套住房契税优惠的": "When claiming deed-tax relief for the family's only or second home",
    "电子证照或数据共享自动获取，免于提交": "Obtained from e-licences or shared data: no need to submit it",
    "经营场所未在本市房屋状况信息库中登记的": (
        "When the premises are not in Shanghai's register of buildings"
    ),
    "转出地经办机构通过平台传送": "Sent over the platform by the agency of the place you leave",
    "非本市户籍适龄儿童的": "For children not registered in Shanghai",
}

# Choices' labels (``enumNames``) and field descriptions of the demo forms.
FORM_TEXTS_EN = {
    "其他原因": "Another reason",
    "父母未办理结婚登记": "The parents have not registered their marriage",
    "申请人为监护人或受委托人": "The applicant is a guardian or acting on the parents' behalf",
    "18位公民身份号码": "The 18-character resident ID number",
}


def lines_in_english(text: str, table: dict) -> str:
    """A text of one entry a line, in English: all its lines translated, or "" when one has no English."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if not lines or any(line not in table for line in lines):
        return ""
    return "\n".join(table[line] for line in lines)
