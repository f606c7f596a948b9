//! `mamori demo`: synthetic people for a throwaway data folder (DESIGN.md, `mamori demo`).
//!
//! The people look like those a Chiba office serves: about 60% Japanese names in kanji with
//! their readings in katakana, 40% foreign residents (Vietnamese, Chinese, Filipino, Nepali,
//! Brazilian, Korean, Indonesian, American) written in latin letters, addresses in the six wards
//! of Chiba City, mobile and 043 landline numbers, and email addresses only at the domains
//! RFC 2606 reserves (example.jp, example.com, example.org), so no real mailbox is ever named.
//!
//! They are registered through the same path as a real import (`import_csv`), so every value is
//! validated and sealed exactly like real data and every registration is audited. A channel gets
//! only the categories it collects (seed 000 Art. 5), never special-care-required ones (APPI
//! 20(2): no consent was obtained from anyone), and never card numbers (seed 000 Art. 7-1):
//! payment fields hold `pm_demo_…` tokens.
//!
//! The people are deterministic for a seed; staff passwords are not (they come from the
//! operating system's generator), since they guard a server that is actually listening.

use std::collections::BTreeMap;

use mamori_policy::{Action, Category, Channel, Policy, Validation};
use rand::distributions::Alphanumeric;
use rand::rngs::{OsRng, StdRng};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde::Serialize;

use crate::principal::{check_fields, check_special_care};
use crate::{Actor, Mamori, Result, ServiceError, staff};

/// A staff account made for the demo; the password is shown once and never stored in clear.
#[derive(Debug, Clone, Serialize)]
pub struct DemoStaff {
    pub login: String,
    pub role: String,
    pub password: String,
}

/// What `demo_populate` made: the new staff (with their passwords) and how many principals,
/// by channel.
#[derive(Debug, Clone, Serialize)]
pub struct DemoReport {
    pub staff: Vec<DemoStaff>,
    pub principals: u64,
    pub by_channel: BTreeMap<String, u64>,
}

/// The synthetic rows for one channel, as an import file would hold them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DemoBatch {
    pub channel: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl DemoBatch {
    fn csv(&self) -> Result<Vec<u8>> {
        let fail = |e: &dyn std::fmt::Display| {
            ServiceError::Failed(format!("demo: cannot write the synthetic CSV: {e}"))
        };
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(&self.header).map_err(|e| fail(&e))?;
        for row in &self.rows {
            w.write_record(row).map_err(|e| fail(&e))?;
        }
        w.into_inner().map_err(|e| fail(&e))
    }
}

const PASSWORD_LEN: usize = 16;

/// A fresh staff password: 16 letters and digits from the operating system's generator.
fn new_password() -> String {
    OsRng
        .sample_iter(&Alphanumeric)
        .take(PASSWORD_LEN)
        .map(char::from)
        .collect()
}

impl Mamori {
    /// `mamori demo`: a staff member per role of the policy (login = role id; roles whose login
    /// is already taken, such as the `admin` made by `init`, are skipped) with random 16-character
    /// passwords, then `n` synthetic principals spread over the policy's non-automatic channels,
    /// registered through `import_csv` so they are validated, sealed and audited like real data.
    /// The principals (and how many go to each channel) are the same for the same `seed`.
    ///
    /// Every row is checked before anything is written; if one would be refused, nothing is
    /// registered and the error names the channel and the first problem.
    pub async fn demo_populate(&self, n: u64, seed: u64) -> Result<DemoReport> {
        let policy = self.policy();
        let batches = demo_rows(&policy, n, seed)?;
        for b in &batches {
            check_batch(&policy, b)?;
        }

        let mut staff = Vec::new();
        for role in &policy.roles {
            if staff::check_login(&role.id).is_err() || self.store.staff(&role.id).await?.is_some()
            {
                continue;
            }
            let password = new_password();
            self.staff_add(None, &role.id, &role.id, None, &password)
                .await?;
            staff.push(DemoStaff {
                login: role.id.clone(),
                role: role.id.clone(),
                password,
            });
        }

        let mut report = DemoReport {
            staff,
            principals: 0,
            by_channel: BTreeMap::new(),
        };
        if batches.is_empty() {
            return Ok(report);
        }
        let registrar = self.demo_registrar(&policy).await?;
        for b in batches {
            let csv = b.csv()?;
            let r = self
                .import_csv(&registrar, &b.channel, &csv, &[], false, None, &mut |_| {})
                .await?;
            if let Some(first) = r.errors.first() {
                return Err(ServiceError::Failed(format!(
                    "demo: {} of the {} synthetic rows for channel {} were refused; the first: line {}: {}: {}",
                    r.errors.len(),
                    r.rows,
                    b.channel,
                    first.line,
                    first.field,
                    first.problem
                )));
            }
            report.principals += r.added;
            *report.by_channel.entry(b.channel).or_default() += r.added;
        }
        Ok(report)
    }

    /// The staff member the demo registers principals as: `clerk` if it may register, else the
    /// first staff member (login = role id) whose role may.
    async fn demo_registrar(&self, policy: &Policy) -> Result<Actor> {
        let mut logins: Vec<&str> = vec!["clerk"];
        logins.extend(
            policy
                .roles
                .iter()
                .filter(|r| r.actions.contains(&Action::Register))
                .map(|r| r.id.as_str()),
        );
        for login in logins {
            if self.store.staff(login).await?.is_none() {
                continue;
            }
            if let Ok(actor) = self.actor(login).await
                && actor.role.actions.contains(&Action::Register)
            {
                return Ok(actor);
            }
        }
        Err(ServiceError::BadInput(
            "demo: no staff member may register principals: the policy needs a role with the `register` action".into(),
        ))
    }
}

/// Check a batch the way `import_csv` will, so a bad generator never leaves half a demo behind.
fn check_batch(policy: &Policy, batch: &DemoBatch) -> Result<()> {
    let channel = policy
        .channel(&batch.channel)
        .ok_or_else(|| ServiceError::Failed(format!("demo: channel {} vanished", batch.channel)))?;
    for (i, row) in batch.rows.iter().enumerate() {
        let fields: Vec<(String, String)> = batch
            .header
            .iter()
            .zip(row)
            .filter(|(_, v)| !v.trim().is_empty())
            .map(|(h, v)| (h.clone(), v.clone()))
            .collect();
        check_fields(policy, channel, &fields)
            .and_then(|c| check_special_care(policy, &c, false))
            .map_err(|e| {
                ServiceError::Failed(format!(
                    "demo: synthetic row {} for channel {} would be refused: {e}",
                    i + 1,
                    channel.id
                ))
            })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// The synthetic people.

/// Text categories the generator knows how to fill (other free-text categories, such as
/// `photo`, are left out).
const KNOWN_TEXT: [&str; 7] = [
    "address",
    "form_text",
    "education_history",
    "immigration_status",
    "financial_support",
    "academic_record",
    "attendance",
];

/// Whether demo rows carry this category at all.
fn fillable(c: &Category) -> bool {
    !c.special_care
        && !c.automatic
        && match c.validation {
            Validation::Identifier => false,
            Validation::Text => KNOWN_TEXT.contains(&c.id.as_str()),
            _ => true,
        }
}

/// How the principals spread over the presets' channels (others weigh 10).
const CHANNEL_WEIGHTS: [(&str, u32); 10] = [
    // chiba-ia
    ("course_application", 30),
    ("event_application", 20),
    ("inquiry", 15),
    ("consultation", 12),
    ("volunteer", 10),
    ("supporting_member", 8),
    ("room_booking", 5),
    // tokyo-one
    ("admission_application", 30),
    ("enrollment", 35),
    ("alumni", 20),
];

fn channel_weight(id: &str) -> u32 {
    CHANNEL_WEIGHTS
        .iter()
        .find(|(c, _)| *c == id)
        .map_or(10, |(_, w)| *w)
}

/// Japanese surnames: kanji, katakana reading, romaji (for the email address).
const SEI: [(&str, &str, &str); 25] = [
    ("佐藤", "サトウ", "sato"),
    ("鈴木", "スズキ", "suzuki"),
    ("高橋", "タカハシ", "takahashi"),
    ("田中", "タナカ", "tanaka"),
    ("伊藤", "イトウ", "ito"),
    ("渡辺", "ワタナベ", "watanabe"),
    ("山本", "ヤマモト", "yamamoto"),
    ("中村", "ナカムラ", "nakamura"),
    ("小林", "コバヤシ", "kobayashi"),
    ("加藤", "カトウ", "kato"),
    ("吉田", "ヨシダ", "yoshida"),
    ("山田", "ヤマダ", "yamada"),
    ("佐々木", "ササキ", "sasaki"),
    ("山口", "ヤマグチ", "yamaguchi"),
    ("松本", "マツモト", "matsumoto"),
    ("井上", "イノウエ", "inoue"),
    ("木村", "キムラ", "kimura"),
    ("林", "ハヤシ", "hayashi"),
    ("斎藤", "サイトウ", "saito"),
    ("清水", "シミズ", "shimizu"),
    ("石井", "イシイ", "ishii"),
    ("飯田", "イイダ", "iida"),
    ("千葉", "チバ", "chiba"),
    ("小川", "オガワ", "ogawa"),
    ("長谷川", "ハセガワ", "hasegawa"),
];

const MEI_MALE: [(&str, &str, &str); 13] = [
    ("健太", "ケンタ", "kenta"),
    ("翔太", "ショウタ", "shota"),
    ("大輔", "ダイスケ", "daisuke"),
    ("拓也", "タクヤ", "takuya"),
    ("誠", "マコト", "makoto"),
    ("浩", "ヒロシ", "hiroshi"),
    ("隆", "タカシ", "takashi"),
    ("蓮", "レン", "ren"),
    ("悠真", "ユウマ", "yuma"),
    ("陽翔", "ハルト", "haruto"),
    ("和夫", "カズオ", "kazuo"),
    ("直樹", "ナオキ", "naoki"),
    ("剛", "ツヨシ", "tsuyoshi"),
];

const MEI_FEMALE: [(&str, &str, &str); 13] = [
    ("美咲", "ミサキ", "misaki"),
    ("陽菜", "ヒナ", "hina"),
    ("結衣", "ユイ", "yui"),
    ("さくら", "サクラ", "sakura"),
    ("恵子", "ケイコ", "keiko"),
    ("裕子", "ユウコ", "yuko"),
    ("由美子", "ユミコ", "yumiko"),
    ("愛", "アイ", "ai"),
    ("真由美", "マユミ", "mayumi"),
    ("彩", "アヤ", "aya"),
    ("花子", "ハナコ", "hanako"),
    ("洋子", "ヨウコ", "yoko"),
    ("葵", "アオイ", "aoi"),
];

/// Foreign residents: latin spelling and katakana reading of each name part.
#[derive(Debug, Clone, Copy, Default)]
struct Country {
    code: &'static str,
    weight: u32,
    /// Family name first (Vietnamese, Chinese, Korean).
    family_first: bool,
    families: &'static [(&'static str, &'static str)],
    male: &'static [(&'static str, &'static str)],
    female: &'static [(&'static str, &'static str)],
    /// Where an applicant to a Japanese-language school studied last.
    schools: &'static [&'static str],
}

const COUNTRIES: [Country; 8] = [
    Country {
        code: "VN",
        weight: 25,
        family_first: true,
        families: &[
            ("Nguyen", "グエン"),
            ("Tran", "チャン"),
            ("Le", "レ"),
            ("Pham", "ファム"),
            ("Hoang", "ホアン"),
            ("Vu", "ヴー"),
            ("Dang", "ダン"),
        ],
        male: &[
            ("Van An", "ヴァン・アン"),
            ("Minh Duc", "ミン・ドゥック"),
            ("Quang Huy", "クアン・フイ"),
            ("Thanh Tung", "タイン・トゥン"),
        ],
        female: &[
            ("Thi Lan", "ティ・ラン"),
            ("Thi Hoa", "ティ・ホア"),
            ("Ngoc Anh", "ゴック・アイン"),
            ("Thu Trang", "トゥ・チャン"),
        ],
        schools: &["ハノイ国家大学", "ダナン大学", "ホーチミン市の高等学校"],
    },
    Country {
        code: "CN",
        weight: 20,
        family_first: true,
        families: &[
            ("Wang", "ワン"),
            ("Li", "リー"),
            ("Zhang", "チャン"),
            ("Liu", "リュウ"),
            ("Chen", "チェン"),
            ("Yang", "ヤン"),
            ("Zhao", "ジャオ"),
        ],
        male: &[
            ("Wei", "ウェイ"),
            ("Hao", "ハオ"),
            ("Jun", "ジュン"),
            ("Lei", "レイ"),
        ],
        female: &[
            ("Fang", "ファン"),
            ("Jing", "ジン"),
            ("Mei", "メイ"),
            ("Xin", "シン"),
        ],
        schools: &["大連の高級中学", "上海の大学", "瀋陽の高級中学"],
    },
    Country {
        code: "PH",
        weight: 15,
        family_first: false,
        families: &[
            ("Santos", "サントス"),
            ("Reyes", "レイエス"),
            ("Cruz", "クルス"),
            ("Bautista", "バウティスタ"),
            ("Garcia", "ガルシア"),
            ("Mendoza", "メンドーサ"),
        ],
        male: &[
            ("Jose", "ホセ"),
            ("Mark", "マーク"),
            ("John Paul", "ジョン・ポール"),
        ],
        female: &[
            ("Maria", "マリア"),
            ("Angelica", "アンジェリカ"),
            ("Kristine", "クリスティン"),
        ],
        schools: &["マニラの大学", "セブの高等学校"],
    },
    Country {
        code: "NP",
        weight: 12,
        family_first: false,
        families: &[
            ("Gurung", "グルン"),
            ("Tamang", "タマン"),
            ("Shrestha", "シュレスタ"),
            ("Rai", "ライ"),
            ("Magar", "マガル"),
            ("Thapa", "タパ"),
        ],
        male: &[
            ("Ram Bahadur", "ラム・バハドゥル"),
            ("Suman", "スマン"),
            ("Bikash", "ビカス"),
        ],
        female: &[("Sita", "シタ"), ("Anita", "アニタ"), ("Sabina", "サビナ")],
        schools: &["カトマンズの高等学校", "ポカラの高等学校", "トリブバン大学"],
    },
    Country {
        code: "BR",
        weight: 8,
        family_first: false,
        families: &[
            ("Silva", "シルバ"),
            ("Oliveira", "オリヴェイラ"),
            ("Souza", "ソウザ"),
            ("Pereira", "ペレイラ"),
            ("Costa", "コスタ"),
            ("Yamamoto", "ヤマモト"),
        ],
        male: &[
            ("Lucas", "ルーカス"),
            ("Gabriel", "ガブリエル"),
            ("Rafael", "ハファエル"),
        ],
        female: &[
            ("Ana", "アナ"),
            ("Juliana", "ジュリアナ"),
            ("Beatriz", "ベアトリス"),
        ],
        schools: &["サンパウロの高等学校", "サンパウロ大学"],
    },
    Country {
        code: "KR",
        weight: 8,
        family_first: true,
        families: &[
            ("Kim", "キム"),
            ("Lee", "イ"),
            ("Park", "パク"),
            ("Choi", "チェ"),
            ("Jung", "チョン"),
        ],
        male: &[
            ("Minjun", "ミンジュン"),
            ("Jihoon", "ジフン"),
            ("Seojun", "ソジュン"),
        ],
        female: &[
            ("Seoyeon", "ソヨン"),
            ("Jiwoo", "ジウ"),
            ("Minji", "ミンジ"),
        ],
        schools: &["ソウルの高等学校", "釜山の大学"],
    },
    Country {
        code: "ID",
        weight: 7,
        family_first: false,
        families: &[
            ("Santoso", "サントソ"),
            ("Wijaya", "ウィジャヤ"),
            ("Pratama", "プラタマ"),
            ("Hidayat", "ヒダヤット"),
            ("Saputra", "サプトラ"),
        ],
        male: &[("Budi", "ブディ"), ("Agus", "アグス"), ("Rizky", "リズキ")],
        female: &[("Putri", "プトリ"), ("Siti", "シティ"), ("Dewi", "デウィ")],
        schools: &["ジャカルタの高等学校", "バンドン工科大学"],
    },
    Country {
        code: "US",
        weight: 5,
        family_first: false,
        families: &[
            ("Smith", "スミス"),
            ("Johnson", "ジョンソン"),
            ("Brown", "ブラウン"),
            ("Miller", "ミラー"),
            ("Davis", "デイビス"),
            ("Wilson", "ウィルソン"),
        ],
        male: &[
            ("James", "ジェームズ"),
            ("Michael", "マイケル"),
            ("Daniel", "ダニエル"),
        ],
        female: &[
            ("Emily", "エミリー"),
            ("Sarah", "サラ"),
            ("Jessica", "ジェシカ"),
        ],
        schools: &["シアトルの大学", "カリフォルニアの高等学校"],
    },
];

/// Towns of the six wards of Chiba City with (roughly) their postal codes.
const TOWNS: [(&str, &str, &str); 38] = [
    ("中央区", "中央", "260-0013"),
    ("中央区", "富士見", "260-0015"),
    ("中央区", "本千葉町", "260-0014"),
    ("中央区", "新町", "260-0028"),
    ("中央区", "登戸", "260-0032"),
    ("中央区", "椿森", "260-0042"),
    ("中央区", "松波", "260-0044"),
    ("中央区", "末広", "260-0843"),
    ("中央区", "蘇我", "260-0823"),
    ("花見川区", "幕張町", "262-0032"),
    ("花見川区", "検見川町", "262-0023"),
    ("花見川区", "花園", "262-0025"),
    ("花見川区", "瑞穂", "262-0011"),
    ("花見川区", "作新台", "262-0045"),
    ("花見川区", "朝日ケ丘", "262-0016"),
    ("稲毛区", "稲毛東", "263-0031"),
    ("稲毛区", "小仲台", "263-0043"),
    ("稲毛区", "園生町", "263-0051"),
    ("稲毛区", "穴川", "263-0024"),
    ("稲毛区", "轟町", "263-0021"),
    ("稲毛区", "天台", "263-0016"),
    ("若葉区", "都賀", "264-0025"),
    ("若葉区", "桜木", "264-0028"),
    ("若葉区", "みつわ台", "264-0032"),
    ("若葉区", "千城台北", "264-0004"),
    ("若葉区", "若松町", "264-0021"),
    ("若葉区", "御成台", "265-0073"),
    ("緑区", "誉田町", "266-0005"),
    ("緑区", "鎌取町", "266-0031"),
    ("緑区", "おゆみ野中央", "266-0032"),
    ("緑区", "古市場町", "266-0003"),
    ("美浜区", "幸町", "261-0001"),
    ("美浜区", "高洲", "261-0004"),
    ("美浜区", "稲毛海岸", "261-0005"),
    ("美浜区", "真砂", "261-0011"),
    ("美浜区", "磯辺", "261-0012"),
    ("美浜区", "打瀬", "261-0013"),
    ("美浜区", "若葉", "261-0014"),
];

const BUILDINGS: [&str; 6] = [
    "コーポ",
    "ハイツ",
    "メゾン",
    "パークハウス",
    "グランドール",
    "レジデンス",
];

const DOMAINS: [(&str, u32); 3] = [("example.jp", 5), ("example.com", 3), ("example.org", 2)];

/// Short notes as people write them on forms, by channel (no digit runs: nothing a card
/// number check could mistake).
const NOTES: [(&str, &[&str]); 10] = [
    (
        "supporting_member",
        &[
            "広報紙は郵送でお願いします。",
            "会報をメールで受け取りたいです。",
            "家族会員として登録を希望します。",
            "国際交流イベントの案内を希望します。",
        ],
    ),
    (
        "volunteer",
        &[
            "通訳ボランティア(英語)を希望します。",
            "ホームステイの受け入れが可能です。",
            "日本語学習支援ボランティアを希望します。",
            "週末のイベント運営を手伝えます。",
            "翻訳(ベトナム語・日本語)が可能です。",
        ],
    ),
    (
        "course_application",
        &[
            "日本語初級クラスを希望します。",
            "英会話中級クラスを希望します。",
            "オンライン受講を希望します。",
            "平日夜のクラスを希望します。",
            "I would like to join the beginner Japanese class.",
        ],
    ),
    (
        "event_application",
        &[
            "国際交流フェスタに家族で参加します。",
            "料理教室に参加を希望します。",
            "子ども連れで参加します。",
            "We will come with two friends.",
        ],
    ),
    (
        "consultation",
        &[
            "在留手続きについて相談したいです。",
            "子どもの学校について相談したいです。",
            "生活全般の相談(ベトナム語)を希望します。",
            "I need help with procedures at the ward office.",
            "Please arrange an interpreter (Nepali).",
        ],
    ),
    (
        "inquiry",
        &[
            "講座の申し込み方法を教えてください。",
            "会議室の空き状況を知りたいです。",
            "入学時期と学費について知りたいです。",
            "見学は可能でしょうか。",
            "Is there a Japanese class on Saturdays?",
        ],
    ),
    (
        "admission_application",
        &[
            "進学コースを希望します。",
            "来年四月期の入学を希望します。",
            "学生寮への入居を希望します。",
        ],
    ),
    (
        "enrollment",
        &[
            "学生寮に入居します。",
            "資格外活動許可を申請予定です。",
            "緊急連絡先は保証人です。",
        ],
    ),
    (
        "alumni",
        &[
            "卒業後は都内の専門学校に進学しました。",
            "同窓会の案内を希望します。",
            "千葉市内の企業に就職しました。",
        ],
    ),
    (
        "",
        &["よろしくお願いいたします。", "連絡はメールでお願いします。"],
    ),
];

const SUPPORT: [&str; 4] = [
    "経費支弁者: 父(会社経営)。預金残高証明書を提出済み。",
    "経費支弁者: 本人(貯蓄)及び母。",
    "経費支弁者: 叔父(日本在住、会社員)。",
    "経費支弁者: 両親(農業・自営業)。奨学金を申請予定。",
];

/// A uniformly chosen element, or the default for an empty table (never the case here).
fn pick<T: Copy + Default>(rng: &mut StdRng, items: &[T]) -> T {
    items.choose(rng).copied().unwrap_or_default()
}

fn digits(rng: &mut StdRng, k: usize) -> String {
    (0..k)
        .map(|_| char::from(b'0' + rng.gen_range(0..10u8)))
        .collect()
}

fn upper(rng: &mut StdRng, k: usize) -> String {
    (0..k)
        .map(|_| char::from(b'A' + rng.gen_range(0..26u8)))
        .collect()
}

/// One synthetic person and where they live.
struct Person {
    name: String,
    kana: String,
    email: String,
    phone: String,
    birth_date: String,
    birth_year: i32,
    gender: &'static str,
    nationality: &'static str,
    /// `None` for Japanese nationals.
    country: Option<Country>,
    address: String,
    postal_code: &'static str,
}

fn person(rng: &mut StdRng, index: u64, japanese_share: f64, student: bool) -> Person {
    let female = rng.gen_bool(0.5);
    let gender = if rng.gen_bool(0.02) {
        "回答しない"
    } else if female {
        "女性"
    } else {
        "男性"
    };
    let japanese = rng.gen_bool(japanese_share.clamp(0.0, 1.0));
    let country = if japanese {
        None
    } else {
        COUNTRIES.choose_weighted(rng, |c| c.weight).ok().copied()
    };
    let (name, kana, local) = match country {
        None => {
            let (sei, sei_kana, sei_romaji) = pick(rng, &SEI);
            let (mei, mei_kana, mei_romaji) =
                pick(rng, if female { &MEI_FEMALE } else { &MEI_MALE });
            (
                format!("{sei} {mei}"),
                format!("{sei_kana} {mei_kana}"),
                (mei_romaji.to_string(), sei_romaji.to_string()),
            )
        }
        Some(c) => {
            let (family, family_kana) = pick(rng, c.families);
            let (given, given_kana) = pick(rng, if female { c.female } else { c.male });
            let ascii = |s: &str| s.replace(' ', "").to_ascii_lowercase();
            let (name, kana) = if c.family_first {
                (
                    format!("{family} {given}"),
                    format!("{family_kana} {given_kana}"),
                )
            } else {
                (
                    format!("{given} {family}"),
                    format!("{given_kana} {family_kana}"),
                )
            };
            (name, kana, (ascii(given), ascii(family)))
        }
    };
    let separator = pick(rng, &[".", "_", ""]);
    let domain = DOMAINS
        .choose_weighted(rng, |d| d.1)
        .map_or("example.jp", |d| d.0);
    // The index keeps addresses unique, so no two demo people share a mailbox.
    let email = format!("{}{separator}{}{index}@{domain}", local.0, local.1);
    let phone = if country.is_none() && rng.gen_bool(0.4) {
        format!(
            "043-{}{}-{}",
            rng.gen_range(2..5u8),
            digits(rng, 2),
            digits(rng, 4)
        )
    } else {
        format!(
            "{}-{}-{}",
            pick(rng, &["070", "080", "090"]),
            digits(rng, 4),
            digits(rng, 4)
        )
    };
    let year: i32 = if student {
        rng.gen_range(1992..=2007)
    } else {
        rng.gen_range(1950..=2008)
    };
    let birth_date = format!(
        "{year:04}-{:02}-{:02}",
        rng.gen_range(1..=12u8),
        rng.gen_range(1..=28u8)
    );
    let (ward, town, postal_code) = pick(rng, &TOWNS);
    let mut address = format!(
        "千葉県千葉市{ward}{town}{}-{}-{}",
        rng.gen_range(1..=5u8),
        rng.gen_range(1..=20u8),
        rng.gen_range(1..=30u8)
    );
    if rng.gen_bool(0.4) {
        address.push_str(&format!(
            " {}{town} {}0{}",
            pick(rng, &BUILDINGS),
            rng.gen_range(1..=8u8),
            rng.gen_range(1..=9u8)
        ));
    }
    Person {
        name,
        kana,
        email,
        phone,
        birth_date,
        birth_year: year,
        gender,
        nationality: country.map_or("JP", |c| c.code),
        country,
        address,
        postal_code,
    }
}

/// A passport number in the shape the person's country issues (6–12 letters and digits).
fn passport(rng: &mut StdRng, p: &Person) -> String {
    match p.nationality {
        "VN" => format!("C{}", digits(rng, 7)),
        "CN" => format!("E{}", digits(rng, 8)),
        "PH" => format!("P{}{}", digits(rng, 7), upper(rng, 1)),
        "NP" => format!("PA{}", digits(rng, 7)),
        "BR" => format!("F{}{}", upper(rng, 1), digits(rng, 6)),
        "KR" => format!("M{}", digits(rng, 8)),
        "ID" => format!("B{}", digits(rng, 7)),
        "US" => digits(rng, 9),
        _ => format!("T{}{}", upper(rng, 1), digits(rng, 7)),
    }
}

fn text_value(rng: &mut StdRng, category: &str, channel: &str, p: &Person) -> String {
    match category {
        "address" => p.address.clone(),
        "form_text" => {
            let notes = NOTES
                .iter()
                .find(|(c, _)| *c == channel)
                .or_else(|| NOTES.iter().find(|(c, _)| c.is_empty()))
                .map_or(&[][..], |(_, n)| *n);
            // Some people leave the free-text box empty.
            if rng.gen_bool(0.25) {
                String::new()
            } else {
                pick(rng, notes).to_string()
            }
        }
        "education_history" => {
            let school = p
                .country
                .map_or("千葉県内の高等学校", |c| pick(rng, c.schools));
            // Finished school at 18 to 22, and not in the future.
            let finished = (p.birth_year + rng.gen_range(18..=22)).min(2025);
            format!(
                "{finished}年 {school} 卒業。日本語学習歴 約{}時間。",
                rng.gen_range(3..=12u16) * 50
            )
        }
        "immigration_status" => match channel {
            "admission_application" if rng.gen_bool(0.7) => {
                "在留資格認定証明書交付申請予定(留学)".to_string()
            }
            "enrollment" => pick(rng, &["留学(在留期間 1年3月)", "留学(在留期間 2年)"]).to_string(),
            _ => pick(
                rng,
                &[
                    "留学(在留期間 1年3月)",
                    "留学(在留期間 2年)",
                    "家族滞在(在留期間 3年)",
                ],
            )
            .to_string(),
        },
        "financial_support" => pick(rng, &SUPPORT).to_string(),
        "academic_record" => {
            let year = rng.gen_range(2019..=2024);
            let class = pick(rng, &["初級", "中級", "上級"]);
            if channel == "alumni" {
                format!(
                    "{year}年4月入学、{}年3月卒業({class}クラス)。進路: {}",
                    year + 2,
                    pick(rng, &["専門学校", "大学", "就職"])
                )
            } else {
                format!(
                    "{year}年{}月入学、{class}クラス在籍。",
                    pick(rng, &[4u8, 10])
                )
            }
        }
        "attendance" => format!("出席率 {}%", rng.gen_range(85..=100u8)),
        _ => String::new(),
    }
}

fn value(rng: &mut StdRng, c: &Category, channel: &str, p: &Person) -> String {
    match c.validation {
        Validation::Name => p.name.clone(),
        Validation::Kana => p.kana.clone(),
        Validation::Email => p.email.clone(),
        Validation::Phone => p.phone.clone(),
        Validation::PostalCode => p.postal_code.to_string(),
        Validation::Date => p.birth_date.clone(),
        Validation::Gender => p.gender.to_string(),
        Validation::Country => p.nationality.to_string(),
        Validation::PassportNumber => passport(rng, p),
        // Japanese nationals have no residence card; some applicants abroad have none yet.
        Validation::ResidenceCardNumber if p.country.is_some() && rng.gen_bool(0.8) => {
            format!("{}{}{}", upper(rng, 2), digits(rng, 8), upper(rng, 2))
        }
        Validation::ResidenceCardNumber | Validation::Identifier => String::new(),
        // Seed 000 Art. 7-1: only the processor's token, never card data.
        Validation::Token if rng.gen_bool(0.6) => {
            let tail: String = (0..8)
                .map(|_| {
                    let i = rng.gen_range(0..36u8);
                    char::from(if i < 10 { b'0' + i } else { b'a' + i - 10 })
                })
                .collect();
            format!("pm_demo_{tail}")
        }
        Validation::Token => String::new(),
        Validation::Text => text_value(rng, &c.id, channel, p),
    }
}

/// `n` synthetic principals as rows per channel, the same for the same policy and seed.
pub(crate) fn demo_rows(policy: &Policy, n: u64, seed: u64) -> Result<Vec<DemoBatch>> {
    let mut rng = StdRng::seed_from_u64(seed);
    // A school for foreign students (it collects residence cards) has few Japanese principals.
    let for_foreigners = policy
        .channels
        .iter()
        .any(|c| c.categories.iter().any(|x| x == "residence_card_number"));
    let mut batches: Vec<(&Channel, Vec<&Category>, u32, DemoBatch)> = Vec::new();
    for ch in policy.channels.iter().filter(|c| !c.automatic) {
        let columns: Vec<&Category> = ch
            .categories
            .iter()
            .filter_map(|id| policy.category(id))
            .filter(|c| fillable(c))
            .collect();
        let weight = channel_weight(&ch.id);
        if columns.is_empty() || weight == 0 {
            continue;
        }
        let header = columns.iter().map(|c| c.id.clone()).collect();
        batches.push((
            ch,
            columns,
            weight,
            DemoBatch {
                channel: ch.id.clone(),
                header,
                rows: Vec::new(),
            },
        ));
    }
    if batches.is_empty() {
        return if n == 0 {
            Ok(Vec::new())
        } else {
            Err(ServiceError::BadInput(
                "demo: the policy has no channel a clerk registers people through".into(),
            ))
        };
    }
    let weights: Vec<u32> = batches.iter().map(|b| b.2).collect();
    let dist = rand::distributions::WeightedIndex::new(&weights)
        .map_err(|e| ServiceError::Failed(format!("demo: channel weights: {e}")))?;
    for index in 1..=n {
        let Some((ch, columns, _, batch)) = batches.get_mut(rng.sample(&dist)) else {
            continue;
        };
        let documents = ch
            .categories
            .iter()
            .any(|c| c == "passport_number" || c == "residence_card_number");
        let japanese_share = if documents {
            0.0
        } else if for_foreigners || ch.id == "consultation" {
            // The consultation desk serves foreign residents (and a few Japanese family members).
            0.1
        } else {
            0.6
        };
        let p = person(&mut rng, index, japanese_share, documents);
        let row = columns
            .iter()
            .map(|c| value(&mut rng, c, &ch.id, &p))
            .collect();
        batch.rows.push(row);
    }
    Ok(batches
        .into_iter()
        .map(|b| b.3)
        .filter(|b| !b.rows.is_empty())
        .collect())
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;
    use crate::Config;

    async fn fresh(preset: &str) -> (Mamori, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let cfg = Config {
            data_dir: dir.path().join("data"),
            database_url: None,
        };
        let text = mamori_policy::preset(preset).unwrap();
        let (m, _) = Mamori::init(
            &cfg,
            text,
            preset,
            Some(preset),
            Some(("admin", "correct horse battery")),
        )
        .await
        .unwrap();
        (m, dir)
    }

    fn policy(preset: &str) -> Policy {
        Policy::parse(mamori_policy::preset(preset).unwrap(), preset).unwrap()
    }

    #[tokio::test]
    async fn three_hundred_valid_people_and_a_staff_member_per_role_on_each_preset() {
        for preset in ["chiba-ia", "tokyo-one"] {
            let (m, _dir) = fresh(preset).await;
            let report = m.demo_populate(300, 1).await.unwrap();
            assert_eq!(report.principals, 300, "{preset}");
            assert_eq!(report.by_channel.values().sum::<u64>(), 300, "{preset}");
            assert!(!report.by_channel.contains_key("web_access"), "{preset}");
            let status = m.status().await.unwrap();
            assert_eq!(status["principals"], 300, "{preset}");

            // A staff member per role but admin (made by init), each able to act.
            let p = m.policy();
            let mut expected: Vec<&str> = p
                .roles
                .iter()
                .map(|r| r.id.as_str())
                .filter(|r| *r != "admin")
                .collect();
            expected.sort_unstable();
            let mut logins: Vec<&str> = report.staff.iter().map(|s| s.login.as_str()).collect();
            logins.sort_unstable();
            assert_eq!(logins, expected, "{preset}");
            for s in &report.staff {
                assert_eq!(s.login, s.role);
                assert_eq!(s.password.chars().count(), 16);
                assert!(s.password.chars().all(|c| c.is_ascii_alphanumeric()));
                assert_eq!(m.actor(&s.login).await.unwrap().role.id, s.role);
                let row = m.store().staff(&s.login).await.unwrap().unwrap();
                assert!(!row.disabled);
            }
            let mut passwords: Vec<&str> =
                report.staff.iter().map(|s| s.password.as_str()).collect();
            passwords.sort_unstable();
            passwords.dedup();
            assert_eq!(passwords.len(), report.staff.len(), "{preset}");

            // Running it again adds no staff (their logins exist) and the same people are
            // recognized as already imported, not duplicated.
            let again = m.demo_populate(300, 1).await.unwrap();
            assert!(again.staff.is_empty());
            assert_eq!(again.principals, 0);
        }
    }

    #[tokio::test]
    async fn the_same_seed_gives_the_same_people_per_channel() {
        let a = fresh("chiba-ia").await;
        let b = fresh("chiba-ia").await;
        let ra = a.0.demo_populate(120, 42).await.unwrap();
        let rb = b.0.demo_populate(120, 42).await.unwrap();
        assert_eq!(ra.by_channel, rb.by_channel);
        assert_eq!(ra.principals, 120);
        let ps: Vec<&String> = ra
            .staff
            .iter()
            .chain(&rb.staff)
            .map(|s| &s.password)
            .collect();
        for (i, x) in ps.iter().enumerate() {
            assert!(ps.iter().skip(i + 1).all(|y| y != x), "passwords repeat");
        }

        for preset in ["chiba-ia", "tokyo-one"] {
            let p = policy(preset);
            assert_eq!(
                demo_rows(&p, 300, 7).unwrap(),
                demo_rows(&p, 300, 7).unwrap()
            );
            assert_ne!(
                demo_rows(&p, 300, 7).unwrap(),
                demo_rows(&p, 300, 8).unwrap()
            );
        }
    }

    #[test]
    fn rows_hold_only_collected_valid_non_sensitive_values() {
        for preset in ["chiba-ia", "tokyo-one"] {
            let p = policy(preset);
            let batches = demo_rows(&p, 2000, 3).unwrap();
            let mut japanese = 0usize;
            let mut total = 0usize;
            for b in &batches {
                check_batch(&p, b).unwrap();
                let ch = p.channel(&b.channel).unwrap();
                assert!(!ch.automatic);
                for h in &b.header {
                    assert!(ch.categories.contains(h));
                    let c = p.category(h).unwrap();
                    assert!(!c.special_care && !c.automatic, "{h}");
                }
                let col = |name: &str| b.header.iter().position(|h| h == name);
                for row in &b.rows {
                    assert_eq!(row.len(), b.header.len());
                    if let Some(i) = col("email") {
                        let domain = row[i].rsplit('@').next().unwrap();
                        assert!(
                            ["example.jp", "example.com", "example.org"].contains(&domain),
                            "{}",
                            row[i]
                        );
                    }
                    // Japanese names are written in kanji, foreign ones in latin letters.
                    let name = &row[col("name").unwrap()];
                    total += 1;
                    japanese += usize::from(!name.is_ascii());
                    if let Some(i) = col("nationality") {
                        assert_eq!(row[i] == "JP", !name.is_ascii(), "{name}");
                    }
                    if let Some(i) = col("payment_token")
                        && !row[i].is_empty()
                    {
                        assert!(row[i].starts_with("pm_demo_"));
                    }
                    for v in row {
                        assert!(!mamori_domain::values::contains_card_number(v), "{v}");
                    }
                }
            }
            let rows: usize = batches.iter().map(|b| b.rows.len()).sum();
            assert_eq!(rows, 2000, "{preset}");
            let share = japanese as f64 / total as f64;
            if preset == "chiba-ia" {
                assert!((0.45..0.65).contains(&share), "{preset}: {share}");
            } else {
                assert!(share < 0.1, "{preset}: {share}");
            }
        }
        // Nothing for a policy without registrable channels, unless nobody was asked for.
        let mut p = policy("chiba-ia");
        p.channels.retain(|c| c.automatic);
        assert!(demo_rows(&p, 0, 1).unwrap().is_empty());
        assert!(demo_rows(&p, 1, 1).is_err());
    }
}
