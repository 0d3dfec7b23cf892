"""The sources behind the rules (CLINICAL.md "Evidence"), each with its version and, where
the source grades it, the strength of its recommendation and the quality of its evidence.

Every rule names its sources by key; every card lists them (with version and strength)
and links to them. Keys are stable: audit and feedback refer to them.
"""

from __future__ import annotations

from dataclasses import dataclass

# The ACR appendix lists the seven variants with their ratings (variant titles read there).
_ACR_APPENDIX = "https://acsearch.acr.org/list/GetAppendix?PanelName=Neurologic&TopicId=141"


@dataclass(frozen=True, slots=True)
class Source:
    key: str
    title: str
    short: str  # for card labels and links
    version: str  # edition, year or revision
    url: str  # https, the guideline itself or its DOI
    strength: str = ""  # strength of recommendation / level of evidence, where graded

    def citation(self) -> str:
        text = f"{self.title} ({self.version})"
        return f"{text}: {self.strength}" if self.strength else text


_SOURCES = (
    Source("nice-ng59", "NICE NG59 Low back pain and sciatica in over 16s: assessment and "
           "management, recs 1.1.1-1.1.6", "NICE NG59", "2016, updated 2020",
           "https://www.nice.org.uk/guidance/ng59/chapter/Recommendations",
           "NICE recommendation ('offer' / 'do not routinely offer': strong)"),
    Source("nice-ng59-imaging", "NICE NG59 rec 1.1.4: do not routinely offer imaging in a "
           "non-specialist setting for low back pain with or without sciatica", "NICE NG59 "
           "1.1.4", "2016, updated 2020",
           "https://www.nice.org.uk/guidance/ng59/chapter/Recommendations"
           "#assessment-of-low-back-pain-and-sciatica",
           "NICE recommendation ('do not routinely offer': strong; text read on nice.org.uk)"),
    Source("nice-ng59-management", "NICE NG59 recs 1.1.2-1.1.3 (risk stratification) and "
           "1.2 (self-management, exercise)", "NICE NG59 1.1.2-1.2", "2016, updated 2020",
           "https://www.nice.org.uk/guidance/ng59/chapter/Recommendations"
           "#non-invasive-treatments-for-low-back-pain-and-sciatica",
           "NICE recommendation ('consider' / 'offer')"),
    Source("nhs-ces", "NHS.uk: Cauda equina syndrome (patient information, for "
           "safety-netting)", "NHS.uk cauda equina syndrome", "page reviewed 2023",
           "https://www.nhs.uk/conditions/cauda-equina-syndrome/",
           "patient information (safety-netting, as the GIRFT 2023 pathway asks)"),
    Source("nice-qs155", "NICE QS155 Low back pain and sciatica in over 16s (quality standard)",
           "NICE QS155", "2017", "https://www.nice.org.uk/guidance/qs155"),
    Source("nice-cks-sciatica", "NICE CKS Sciatica (lumbar radiculopathy): red flag symptoms "
           "and signs", "NICE CKS sciatica", "2018 cauda equina update",
           "https://cks.nice.org.uk/topics/sciatica-lumbar-radiculopathy/",
           "consensus summary of national guidance"),
    Source("girft-ces", "GIRFT National Suspected Cauda Equina Syndrome pathway",
           "GIRFT CES pathway", "2023",
           "https://gettingitrightfirsttime.co.uk/pathway-supports-clinicians-to-diagnose-and-"
           "treat-cauda-equina-syndrome-without-delay/",
           "national multidisciplinary consensus pathway"),
    Source("katzouraki-2020", "Katzouraki G, Zubairi AJ, Hershkovich O, Grevitt MP. A "
           "prospective study of the role of bladder scanning and post-void residual volume "
           "measurement in improving diagnostic accuracy of cauda equina syndrome, Bone Joint "
           "J 2020;102-B(6):677-682", "Katzouraki et al., Bone Joint J (bladder scan)", "2020",
           "https://doi.org/10.1302/0301-620X.102B6.BJJ-2020-0195.R1",
           "prospective diagnostic study, 260 patients, one spinal unit (a residual of 200 ml "
           "or more: sensitivity 94.1 %, specificity 66.8 %, negative predictive value "
           "98.7 % for compression on MRI)"),
    Source("sbns-bass-ces", "SBNS / BASS Standards of care for investigation and management "
           "of cauda equina syndrome (2018 joint revision of the BASS standards published as "
           "Germon T et al, Spine J 2015)", "SBNS/BASS CES standards", "2018",
           "https://doi.org/10.1016/j.spinee.2015.01.006",
           "professional consensus standard (link: the published BASS standards the 2018 "
           "joint document revised; the 2018 PDF on sbns.org.uk was not reachable to check)"),
    Source("acp-aps-2007", "Chou R et al. Diagnosis and treatment of low back pain: ACP/APS "
           "guideline, Ann Intern Med 2007;147:478 (recs 2-4)", "ACP/APS 2007", "2007",
           "https://doi.org/10.7326/0003-4819-147-7-200710020-00006",
           "rec. 2: strong recommendation, moderate-quality evidence; rec. 3: strong, "
           "moderate-quality; rec. 4: strong, moderate-quality"),
    Source("acp-2011", "Chou R et al. Diagnostic imaging for low back pain: advice for "
           "high-value health care, Ann Intern Med 2011;154:181 (table 2)", "ACP 2011", "2011",
           "https://doi.org/10.7326/0003-4819-154-3-201102010-00008",
           "high-value care advice based on the ACP/APS 2007 strong recommendations"),
    Source("acp-2017", "Qaseem A et al. Noninvasive treatments for acute, subacute and "
           "chronic low back pain: ACP guideline, Ann Intern Med 2017;166:514", "ACP 2017",
           "2017", "https://doi.org/10.7326/M16-2367",
           "rec. 1 (superficial heat, non-drug first): strong recommendation, "
           "low-quality evidence; rec. 2 (exercise for chronic pain): strong, "
           "low-quality"),
    Source("acr-ac-lbp", "ACR Appropriateness Criteria Low Back Pain (Hutchins TA et al., "
           "J Am Coll Radiol 2021;18(11S):S361), variants 1-7", "ACR AC low back pain",
           "2021 revision",
           "https://acsearch.acr.org/list/GetAppendix?PanelName=Neurologic&TopicId=141",
           "appropriateness ratings (usually appropriate / may be appropriate / usually "
           "not appropriate), RAND/UCLA method with GRADE evidence review"),
    Source("cw-imaging", "Choosing Wisely (NASS, also AAFP and ACR): no advanced imaging of "
           "the spine in the first six weeks of nonspecific acute low back pain without red "
           "flags", "Choosing Wisely imaging", "AAFP 2012, NASS 2013, ACR 2012",
           "https://www.aafp.org/afp/recommendations/viewRecommendation.htm?"
           "recommendationId=127",
           "specialty society recommendation (NASS item 1 as AAFP hosts it; text read there)"),
    Source("acr-lbp-v1", "ACR Appropriateness Criteria Low Back Pain, variant 1: acute low "
           "back pain with or without radiculopathy, no red flags, no prior management",
           "ACR AC LBP variant 1", "2021 revision",
           "https://acsearch.acr.org/list/GetAppendix?PanelName=Neurologic&TopicId=141",
           "all modalities 'usually not appropriate' (RAND/UCLA, GRADE evidence review)"),
    Source("acr-lbp-v2", "ACR Appropriateness Criteria Low Back Pain, variant 2: subacute or "
           "chronic low back pain with or without radiculopathy, no red flags, no prior "
           "management, initial imaging", "ACR AC LBP variant 2", "2021 revision",
           "https://acsearch.acr.org/list/GetAppendix?PanelName=Neurologic&TopicId=141",
           "all modalities 'usually not appropriate' (RAND/UCLA, GRADE evidence review)"),
    Source("acr-lbp-v3", "ACR Appropriateness Criteria Low Back Pain, variant 3: subacute or "
           "chronic low back pain, surgery or intervention candidate with persistent or "
           "progressive symptoms during or after 6 weeks of optimal medical management",
           "ACR AC LBP variant 3", "2021 revision", _ACR_APPENDIX,
           "MRI lumbar spine without IV contrast 'usually appropriate' (RAND/UCLA, GRADE)"),
    Source("acr-lbp-v4", "ACR Appropriateness Criteria Low Back Pain, variant 4: low back "
           "pain with suspected cauda equina syndrome", "ACR AC LBP variant 4",
           "2021 revision", _ACR_APPENDIX,
           "appropriateness ratings (RAND/UCLA method, GRADE evidence review)"),
    Source("acr-lbp-v5", "ACR Appropriateness Criteria Low Back Pain, variant 5: history of "
           "prior lumbar surgery, new or progressing symptoms or clinical findings",
           "ACR AC LBP variant 5", "2021 revision", _ACR_APPENDIX,
           "appropriateness ratings (RAND/UCLA method, GRADE evidence review)"),
    Source("acr-lbp-v6", "ACR Appropriateness Criteria Low Back Pain, variant 6: low-velocity "
           "trauma, osteoporosis, elderly individual or chronic steroid use",
           "ACR AC LBP variant 6", "2021 revision", _ACR_APPENDIX,
           "appropriateness ratings (RAND/UCLA method, GRADE evidence review)"),
    Source("acr-lbp-v7", "ACR Appropriateness Criteria Low Back Pain, variant 7: suspicion of "
           "cancer, infection or immunosuppression", "ACR AC LBP variant 7", "2021 revision",
           _ACR_APPENDIX,
           "appropriateness ratings (RAND/UCLA method, GRADE evidence review)"),
    Source("cw-aanem", "Choosing Wisely, AANEM: EMG and nerve conduction studies together; "
           "no dermatomal SEPs for radiculopathy", "AANEM Choosing Wisely", "2015",
           "https://www.choosingwisely.org/societies/"
           "american-association-of-neuromuscular-electrodiagnostic-medicine/",
           "specialty society recommendation (recommendation 4: no NCS without needle EMG "
           "for radiculopathy)"),
    Source("cw-nass-emg", "Choosing Wisely, NASS item 4: do not use EMG and nerve "
           "conduction studies to determine the cause of axial lumbar, thoracic or cervical "
           "spine pain", "NASS Choosing Wisely", "2013",
           "https://www.choosingwisely.org/societies/north-american-spine-society/",
           "specialty society recommendation (item text checked in secondary reproductions "
           "of NASS's 2013 list: its release and Medscape 2013; the society page follows "
           "the pattern of AANEM's, which was read)"),
    Source("nice-ng59-alternative", "NICE NG59 rec 1.1.1: think about alternative diagnoses "
           "when examining or reviewing people with low back pain; exclude specific causes",
           "NICE NG59 1.1.1", "2016, updated 2020",
           "https://www.nice.org.uk/guidance/ng59/chapter/Recommendations"
           "#assessment-of-low-back-pain-and-sciatica",
           "NICE recommendation (text read on nice.org.uk)"),
    Source("cw-nonspinal", "AAFP Choosing Wisely, imaging for low back pain: rationale asks "
           "to rule out non-spinal causes of back pain (pyelonephritis, pancreatitis, "
           "gastrointestinal and pelvic disease)", "AAFP Choosing Wisely back pain", "2012",
           "https://aafp.org/content/brand/aafp/family-physician/patient-care/"
           "clinical-recommendations/all-clinical-recommendations/cw-back-pain.html",
           "specialty society recommendation (rationale text read on aafp.org)"),
    Source("nass-disc-2014", "Kreiner DS et al. NASS guideline: lumbar disc herniation with "
           "radiculopathy, Spine J 2014;14:180", "NASS disc herniation", "2014",
           "https://doi.org/10.1016/j.spinee.2013.08.003",
           "graded evidence-based guideline (MRI as the test of choice to confirm disc "
           "herniation in a surgical candidate)"),
    Source("nice-ng65", "NICE NG65 Spondyloarthritis in over 16s: diagnosis and management, "
           "1.1 recognition and referral (axial SpA: back pain from before 45, over 3 "
           "months, 4 or more of 9 criteria; exactly 3: HLA-B27)", "NICE NG65 1.1", "2017",
           "https://www.nice.org.uk/guidance/ng65/chapter/Recommendations"
           "#recognition-and-referral-in-non-specialist-care-settings",
           "NICE recommendation (referral criteria; the nine criteria checked in "
           "BJGP 2018;68:346 box 3 and NHS Lanarkshire's referral guideline, secondary)"),
    Source("nice-ng12", "NICE NG12 Suspected cancer: recognition and referral", "NICE NG12",
           "2015, updated 2023", "https://www.nice.org.uk/guidance/ng12/chapter/"
           "Recommendations-organised-by-site-of-cancer",
           "NICE recommendation (positive predictive value ≥ 3 % threshold)"),
    Source("nice-ng12-myeloma", "NICE NG12 Suspected cancer, 1.10 haematological cancers, "
           "myeloma: offer FBC, calcium and plasma viscosity or ESR at 60 and over with "
           "persistent bone pain, particularly back pain", "NICE NG12 myeloma",
           "2015, updated 2023", "https://www.nice.org.uk/guidance/ng12/chapter/"
           "Recommendations-organised-by-site-of-cancer#haematological-cancers",
           "NICE recommendation ('offer': strong; text checked in secondary reproductions "
           "of NG12, section number as the clinical review cites it, not re-read)"),
    Source("nice-ng234", "NICE NG234 Spinal metastases and metastatic spinal cord "
           "compression (replaced CG75)", "NICE NG234", "2023",
           "https://www.nice.org.uk/guidance/ng234/chapter/Recommendations",
           "NICE recommendation: contact the MSCC coordinator immediately if neurological "
           "symptoms or signs"),
    Source("nice-ng234-mscc", "NICE NG234 Spinal metastases and MSCC, recognition and "
           "referral: cancer (past or current) with symptoms or signs of cord compression: "
           "contact the MSCC coordinator immediately; whole-spine MRI within 24 hours",
           "NICE NG234 MSCC", "2023",
           "https://www.nice.org.uk/guidance/ng234/chapter/Recommendations",
           "NICE recommendation (replaced CG75; text checked in the NICE team's summary, "
           "BMJ 2023;383:p1973, and QS56 statement 3; section number not re-read)"),
    Source("nice-qs56-mri", "NICE QS56 quality statement 3: suspected MSCC with neurological "
           "symptoms or signs: MRI of the whole spine and a treatment plan within 24 hours",
           "NICE QS56 statement 3", "2014, updated 2024",
           "https://www.nice.org.uk/guidance/qs56/chapter/Quality-statement-3-Imaging-and-"
           "treatment-plans-for-adults-with-suspected-metastatic-spinal-cord-compression",
           "NICE quality standard"),
    Source("downie-2013", "Downie A et al. Red flags to screen for malignancy and fracture "
           "in low back pain, BMJ 2013;347:f7095", "Downie BMJ 2013", "2013",
           "https://doi.org/10.1136/bmj.f7095",
           "systematic review: history of cancer raises the probability of malignancy "
           "(post-test probability 33 %); most other red flags are weak alone"),
    Source("henschke-2009", "Henschke N et al. Prevalence of and screening for serious "
           "spinal pathology in 1,172 primary-care patients, Arthritis Rheum 2009;60:3072",
           "Henschke 2009", "2009", "https://doi.org/10.1002/art.24853",
           "prospective cohort: older age, prolonged steroids, significant trauma "
           "predict fracture"),
    Source("cho-aanem-2010", "Cho SC et al. AANEM evidence-based review: electrodiagnostic "
           "testing for lumbosacral radiculopathy, Muscle Nerve 2010;42:276", "Cho 2010",
           "2010", "https://doi.org/10.1002/mus.21759",
           "systematic evidence review (class II-III studies)"),
)

SOURCES: dict[str, Source] = {s.key: s for s in _SOURCES}


def source(key: str) -> Source:
    """The source of ``key``; a rule naming an unknown key fails at import (catalogue)."""
    return SOURCES[key]
