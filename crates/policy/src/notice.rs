//! The public privacy notice (プライバシーポリシー), rendered from the policy file alone.
//!
//! Because the notice is derived from the same [`Policy`] value that Mamori enforces, what is
//! published and what is enforced cannot drift apart (DESIGN.md). The notice reads like the
//! seeds: seed 000 (preamble, Arts. 3-11, 制定日) and seed 003 (方針, 本件連絡先, Arts. 20, 23).
//! It makes knowable what APPI requires: the purposes of use (APPI 21(1), 32(1)(ii)); the
//! name, address and representative (32(1)(i)); the request procedure and fees (32(1)(iii),
//! 37, 38); the security control measures and the complaint contact (32(1)(iv), Cabinet Order
//! Art. 10); recipients, foreign recipients (28) and joint use (27(5)(iii)); retention periods.
//!
//! One document model ([`Block`]) is built once and written out as Markdown or as a complete,
//! escaped, accessible HTML page with print-friendly inline CSS and no external assets.

use std::fmt::Write as _;
use std::str::FromStr;

use crate::model::{
    Channel, Day, ForeignBasis, IdentityMethod, Lang, Policy, RecipientKind, RequestKind,
    RetentionFrom,
};
use crate::{parse_duration, parse_ymd};

/// The output format of the notice (`mamori policy notice --format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Markdown,
    Html,
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "markdown" => Ok(Format::Markdown),
            "html" => Ok(Format::Html),
            other => Err(format!(
                "\"{other}\" is not a notice format: use markdown or html"
            )),
        }
    }
}

/// Render the public notice of `policy` in `lang` as `format`.
pub fn render(policy: &Policy, lang: Lang, format: Format) -> String {
    let doc = build(policy, lang);
    match format {
        Format::Markdown => markdown(&doc),
        Format::Html => html(&doc, lang),
    }
}

// ---------------------------------------------------------------------------------------------
// The document model.

/// A piece of running text: plain text or a link (a recipient's own policy, seed 000 Art. 7).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Inline {
    Text(String),
    Link(String),
}

type Run = Vec<Inline>;

fn run(s: impl Into<String>) -> Run {
    vec![Inline::Text(s.into())]
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Block {
    Title(String),
    Heading(String),
    Subheading(String),
    Para(Run),
    List(Vec<Run>),
    Numbered(Vec<Run>),
    Table {
        head: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    Footer(Vec<String>),
}

/// Japanese or English fixed text.
fn t(lang: Lang, ja: &'static str, en: &'static str) -> &'static str {
    match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
}

/// A list joiner: `、` in Japanese, `, ` in English.
fn join(lang: Lang, items: &[String]) -> String {
    items.join(t(lang, "、", ", "))
}

/// A paragraph of policy text: lines joined, so a stray line start can never become markup.
fn paragraphs(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .map(|p| p.trim().replace('\n', " "))
        .filter(|p| !p.is_empty())
        .map(|p| Block::Para(run(p)))
        .collect()
}

fn build(p: &Policy, lang: Lang) -> Vec<Block> {
    let o = &p.organization;
    let name = o.name.get(lang).to_string();
    let mut d = vec![Block::Title(match lang {
        Lang::Ja => format!("{name} 個人情報保護方針"),
        Lang::En => format!("{name}: Privacy Policy"),
    })];
    d.extend(paragraphs(p.preamble.get(lang)));

    let mut n = 0;
    let mut heading = |d: &mut Vec<Block>, ja: &'static str, en: &'static str| {
        n += 1;
        d.push(Block::Heading(format!("{n}. {}", t(lang, ja, en))));
    };

    // APPI 32(1)(i).
    heading(&mut d, "事業者", "Who we are");
    let mut who = vec![
        run(format!("{}: {name}", t(lang, "名称", "Name"))),
        run(format!(
            "{}: {}",
            t(lang, "住所", "Address"),
            o.address.get(lang)
        )),
        run(format!(
            "{}: {}",
            t(lang, "代表者", "Representative"),
            o.representative.get(lang)
        )),
        run(format!(
            "{}: {}",
            t(
                lang,
                "個人情報の管理責任者",
                "Responsible for personal information"
            ),
            o.manager.get(lang)
        )),
    ];
    who.extend(contact_lines(p, lang));
    d.push(Block::List(who));

    // Seed 000 Arts. 3, 5; seed 003 方針 1.
    heading(
        &mut d,
        "取得する個人情報と取得の方法",
        "The personal information we acquire, and how",
    );
    d.push(Block::Para(run(t(
        lang,
        "次の手続により、それぞれ次の個人情報を取得します。",
        "We acquire the following personal information through the following procedures.",
    ))));
    d.push(Block::List(
        p.channels
            .iter()
            .map(|c| {
                run(format!(
                    "{}: {}",
                    c.get(lang),
                    join(lang, &category_names(p, c, lang))
                ))
            })
            .collect(),
    ));
    let special: Vec<String> = p
        .categories
        .iter()
        .filter(|c| c.special_care && p.channels.iter().any(|ch| ch.categories.contains(&c.id)))
        .map(|c| c.get(lang).to_string())
        .collect();
    if !special.is_empty() {
        d.push(Block::Para(run(match lang {
            Lang::Ja => format!(
                "このうち{}は要配慮個人情報であり、あらかじめご本人の同意を得た上で取得します(個人情報保護法第20条第2項)。",
                join(lang, &special)
            ),
            Lang::En => format!(
                "Of these, {} is special-care-required personal information: we acquire it only with your prior consent (APPI Art. 20(2)).",
                join(lang, &special)
            ),
        })));
    }

    // Seed 000 Art. 4; seed 003 Arts. 8, 9, 11; APPI 17, 18, 21.
    heading(&mut d, "利用目的", "Purposes of use");
    d.push(Block::Para(run(t(
        lang,
        "取得した個人情報は、次の目的のために利用します。",
        "We use the personal information we acquire for the following purposes.",
    ))));
    d.push(Block::Numbered(
        p.purposes
            .iter()
            .map(|x| run(lang_pick(lang, &x.ja, &x.en)))
            .collect(),
    ));
    d.push(Block::Subheading(
        t(lang, "取得の手続ごとの利用目的", "Purposes by procedure").to_string(),
    ));
    d.push(Block::Table {
        head: vec![
            t(lang, "取得の手続", "Procedure").to_string(),
            t(lang, "利用目的(上記の番号)", "Purposes (numbers above)").to_string(),
        ],
        rows: p
            .channels
            .iter()
            .map(|c| {
                vec![
                    c.get(lang).to_string(),
                    purpose_numbers(p, &c.purposes, lang),
                ]
            })
            .collect(),
    });
    d.push(Block::Para(run(t(
        lang,
        "個人情報は、取得時に明示した利用目的の範囲内でのみ利用し、法令に基づく場合を除き、ご本人の同意なく目的外に利用することはありません。利用目的を変更する場合は、変更前の利用目的と関連性を有すると合理的に認められる範囲内で行い、変更後の利用目的をご本人に通知し、又は公表します(個人情報保護法第17条、第18条、第21条)。",
        "We use personal information only within the purposes stated when it was acquired and, except where the law allows, never for other purposes without your consent. A purpose is changed only within what is reasonably related to the earlier purpose, and the changed purpose is notified to you or published (APPI Arts. 17, 18, 21).",
    ))));

    // Seed 000 Arts. 6, 7; seed 003 方針 3, Arts. 9(3), 20; APPI 25, 27, 28.
    heading(
        &mut d,
        "個人データの委託・第三者提供・共同利用",
        "Entrustment, provision to third parties and joint use",
    );
    let of_kind = |k: RecipientKind| p.recipients.iter().filter(move |r| r.kind == k);
    if of_kind(RecipientKind::Entrustment).next().is_some() {
        d.push(Block::Subheading(
            t(lang, "委託", "Entrustment").to_string(),
        ));
        d.push(Block::Para(run(t(
            lang,
            "利用目的の達成に必要な範囲で、個人データの取扱いを次の者に委託します。委託先は適正な個人情報保護の体制を備えた者を選定し、契約により安全管理を義務付け、適切に監督します。外国にある事業者に委託する場合は、個人情報保護委員会規則で定める国の事業者又は同規則で定める基準に適合する体制を有する事業者を選定します(個人情報保護法第25条、第28条)。",
            "We entrust the handling of personal data, within what the purposes need, to the following. Contractors are chosen for their proper protection of personal information, bound by contract to keep it secure and supervised. A contractor abroad is chosen from a country or with a system that meets the standards of the Personal Information Protection Commission's rules (APPI Arts. 25, 28).",
        ))));
        d.push(Block::List(
            of_kind(RecipientKind::Entrustment)
                .map(|r| recipient_line(p, r, lang))
                .collect(),
        ));
    }
    if of_kind(RecipientKind::ThirdParty).next().is_some() {
        d.push(Block::Subheading(
            t(lang, "第三者提供", "Provision to third parties").to_string(),
        ));
        d.push(Block::List(
            of_kind(RecipientKind::ThirdParty)
                .map(|r| recipient_line(p, r, lang))
                .collect(),
        ));
    }
    if of_kind(RecipientKind::JointUse).next().is_some() {
        d.push(Block::Subheading(
            t(lang, "共同利用", "Joint use").to_string(),
        ));
        d.push(Block::Para(run(t(
            lang,
            "次のとおり個人データを共同して利用します。利用する者の利用目的又は管理について責任を有する者を変更する場合は、あらかじめお知らせします(個人情報保護法第27条第5項第3号、第6項)。",
            "We use personal data jointly as follows. Any change of the users' purposes or of the party responsible is announced beforehand (APPI Art. 27(5)(iii), (6)).",
        ))));
        d.push(Block::List(
            of_kind(RecipientKind::JointUse)
                .map(|r| recipient_line(p, r, lang))
                .collect(),
        ));
    }
    d.push(Block::Para(run(t(
        lang,
        "上記の場合を除き、あらかじめご本人の同意を得ないで個人データを第三者に提供することはありません。ただし、次の場合には、必要最小限の範囲で、ご本人の同意を得ずに個人情報を提供し、又は利用目的の範囲を超えて取り扱うことがあります。",
        "Except as above, we never provide personal data to a third party without your prior consent. In the following cases, however, we may provide personal information, or handle it beyond the purposes of use, without consent and only as far as necessary.",
    ))));
    if !p.exceptions.is_empty() {
        d.push(Block::List(
            p.exceptions
                .iter()
                .map(|e| run(lang_pick(lang, &e.ja, &e.en)))
                .collect(),
        ));
    }

    // Seed 000 Arts. 2, 8; seed 003 方針 4, 6, Arts. 4-7, 12-19; APPI 23, 32(1)(iv).
    heading(&mut d, "安全管理措置", "Security control measures");
    d.push(Block::Para(run(t(
        lang,
        "個人データの漏えい、滅失又は毀損の防止その他の安全管理のため、次の措置を講じています。",
        "To prevent leaks, loss or damage of personal data and otherwise keep it secure, we take the following measures.",
    ))));
    d.push(Block::List(
        p.security
            .measures
            .iter()
            .map(|m| run(lang_pick(lang, &m.ja, &m.en)))
            .collect(),
    ));
    if let Some(a) = &p.security.user_advice {
        d.extend(paragraphs(a.get(lang)));
    }

    // Seed 000 Art. 9; seed 003 方針 5, Art. 21; APPI 32-39.
    heading(
        &mut d,
        "開示・訂正・利用停止等の請求",
        "Requests for disclosure, correction, suspension and more",
    );
    let r = &p.requests;
    d.extend(paragraphs(r.procedure.get(lang)));
    let methods: Vec<String> = r
        .identity_methods
        .iter()
        .map(|m| identity_label(*m, lang).to_string())
        .collect();
    let mut req = vec![
        run(match lang {
            Lang::Ja => format!(
                "回答: 本人確認の後、原則として受付から{}日以内に回答します。",
                r.answer_within_days
            ),
            Lang::En => format!(
                "Answer: after checking your identity, within {} days of receipt as a rule.",
                r.answer_within_days
            ),
        }),
        run(format!(
            "{}: {}",
            t(lang, "本人確認の方法", "Identity check"),
            join(lang, &methods)
        )),
    ];
    if !r.fees.is_empty() {
        let fees: Vec<String> = r
            .fees
            .iter()
            .map(|f| format!("{} {}", request_label(f.kind, lang), yen(f.yen, lang)))
            .collect();
        req.push(run(format!(
            "{}: {}",
            t(lang, "手数料", "Fees"),
            join(lang, &fees)
        )));
    }
    d.push(Block::List(req));
    d.extend(paragraphs(r.refusal.get(lang)));

    // Seed 003 Art. 23; seed 000 Art. 11.
    heading(&mut d, "苦情の受付", "Complaints");
    let c = &p.complaints;
    let w = &c.window;
    let mut closed: Vec<String> = Vec::new();
    if w.closed_on_holidays {
        closed.push(
            t(
                lang,
                "国民の祝日及び振替休日",
                "national holidays and substitute holidays",
            )
            .to_string(),
        );
    }
    for cp in &w.closed_periods {
        closed.push(month_day_range(&cp.from, &cp.to, lang));
    }
    let mut cl = vec![
        run(format!(
            "{}: {}",
            t(lang, "窓口", "Desk"),
            c.contact.get(lang)
        )),
        run(match lang {
            Lang::Ja => format!(
                "受付日時: {} {}〜{}(日本時間)",
                days_label(&w.days, lang),
                w.opens,
                w.closes
            ),
            Lang::En => format!(
                "Hours: {}, {} to {} (Japan time)",
                days_label(&w.days, lang),
                w.opens,
                w.closes
            ),
        }),
    ];
    if !closed.is_empty() {
        cl.push(run(format!(
            "{}: {}",
            t(lang, "休業日", "Closed on"),
            join(lang, &closed)
        )));
    }
    cl.push(run(match lang {
        Lang::Ja => format!(
            "対応: 苦情は適切かつ迅速に調査し、原則として受付から{}営業日以内に対応します。必要に応じ、結果を書面でお知らせします。",
            c.answer_within_business_days
        ),
        Lang::En => format!(
            "Handling: complaints are investigated properly and promptly, and dealt with within {} business days of receipt as a rule; where needed, we tell you the result in writing.",
            c.answer_within_business_days
        ),
    }));
    d.push(Block::List(cl));

    // Seed 000 Art. 8-4; seed 003 Arts. 12(2)(4), 16.
    heading(&mut d, "保存期間", "Retention");
    d.push(Block::Para(run(t(
        lang,
        "個人情報は次の期間保存し、期間の経過後又は保存の必要がなくなったときは、復元できない方法で速やかに破棄します。",
        "We keep personal information for the following periods; after them, or when it is no longer needed, we promptly destroy it so that it cannot be recovered.",
    ))));
    d.push(Block::Table {
        head: vec![
            t(lang, "取得の手続", "Procedure").to_string(),
            t(lang, "保存期間", "Kept for").to_string(),
        ],
        rows: p
            .channels
            .iter()
            .map(|c| {
                // The note says the period in the organization's words; without one, say it plainly.
                let kept = match &c.retention_note {
                    Some(n) if !n.get(lang).trim().is_empty() => n.get(lang).to_string(),
                    _ => retention_label(c, lang),
                };
                vec![c.get(lang).to_string(), kept]
            })
            .collect(),
    });

    // Seed 000 Art. 10; seed 003 Art. 11(3).
    if !p.revisions.get(lang).trim().is_empty() {
        heading(&mut d, "本方針の改訂", "Revisions of this policy");
        d.extend(paragraphs(p.revisions.get(lang)));
    }

    // Seed 000 Art. 11; seed 003 本件連絡先.
    heading(&mut d, "お問い合わせ先", "Contact");
    d.push(Block::Para(run(t(
        lang,
        "本方針及び個人情報の取扱いに関するご質問、ご意見、苦情等は、次の窓口までご連絡ください。",
        "Please send questions, opinions and complaints about this policy or our handling of personal information to:",
    ))));
    let window = o.contact_window.get(lang);
    let mut contact = vec![run(window)];
    // The window's own text often carries the numbers already; do not repeat them.
    contact.extend(
        contact_lines(p, lang)
            .into_iter()
            .filter(|l| match l.first() {
                Some(Inline::Text(s)) => s.rsplit(": ").next().is_none_or(|v| !window.contains(v)),
                _ => true,
            }),
    );
    d.push(Block::List(contact));

    let mut footer = Vec::new();
    if let Some(e) = &o.established {
        footer.push(format!(
            "{}: {}",
            t(lang, "制定日", "Established"),
            date_label(e, lang)
        ));
    }
    footer.push(format!(
        "{}: {}",
        t(lang, "版", "Version"),
        date_label(&p.version, lang)
    ));
    d.push(Block::Footer(footer));
    d
}

fn lang_pick(lang: Lang, ja: &str, en: &str) -> String {
    match lang {
        Lang::Ja => ja.to_string(),
        Lang::En => en.to_string(),
    }
}

trait Named {
    fn get(&self, lang: Lang) -> &str;
}
impl Named for Channel {
    fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}
impl Named for crate::model::Category {
    fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Ja => &self.ja,
            Lang::En => &self.en,
        }
    }
}

fn contact_lines(p: &Policy, lang: Lang) -> Vec<Run> {
    let o = &p.organization;
    let mut v = vec![run(format!(
        "{}: {}",
        t(lang, "電話", "Telephone"),
        o.phone
    ))];
    if let Some(f) = &o.fax {
        v.push(run(format!("FAX: {f}")));
    }
    if let Some(e) = &o.email {
        v.push(run(format!("{}: {e}", t(lang, "電子メール", "Email"))));
    }
    v
}

fn category_names(p: &Policy, c: &Channel, lang: Lang) -> Vec<String> {
    c.categories
        .iter()
        .map(|id| {
            p.category(id)
                .map_or_else(|| id.clone(), |x| x.get(lang).to_string())
        })
        .collect()
}

fn purpose_numbers(p: &Policy, ids: &[String], lang: Lang) -> String {
    let nums: Vec<String> = ids
        .iter()
        .filter_map(|id| p.purposes.iter().position(|x| &x.id == id))
        .map(|i| (i + 1).to_string())
        .collect();
    join(lang, &nums)
}

fn recipient_line(p: &Policy, r: &crate::model::Recipient, lang: Lang) -> Run {
    let cats: Vec<String> = r
        .categories
        .iter()
        .map(|id| {
            p.category(id)
                .map_or_else(|| id.clone(), |x| x.get(lang).to_string())
        })
        .collect();
    let mut s = match lang {
        Lang::Ja => format!("{}({})", r.name.get(lang), country_label(&r.country, lang)),
        Lang::En => format!("{} ({})", r.name.get(lang), country_label(&r.country, lang)),
    };
    let desc = r.description.get(lang).trim();
    if !desc.is_empty() {
        let _ = write!(s, "{}{desc}", t(lang, ":", ": "));
        if !desc.ends_with(['。', '.']) {
            s.push_str(t(lang, "。", "."));
        }
    }
    let _ = write!(
        s,
        "{}{}{}{}",
        t(lang, " 提供する項目: ", " Items provided: "),
        join(lang, &cats),
        t(lang, "。利用目的: ", ". Purposes: "),
        purpose_numbers(p, &r.purposes, lang)
    );
    if r.required_by_law {
        s.push_str(t(
            lang,
            "。法令に基づく提供です(個人情報保護法第27条第1項第1号)",
            ". Provision required by law (APPI Art. 27(1)(i))",
        ));
    }
    if let Some(resp) = &r.responsible {
        let _ = write!(
            s,
            "{}{}",
            t(
                lang,
                "。管理について責任を有する者: ",
                ". Responsible for the data: "
            ),
            resp.get(lang)
        );
    }
    if r.country != "JP" {
        let basis = match r.foreign_basis {
            Some(ForeignBasis::EquivalentCountry) => t(
                lang,
                "個人情報保護委員会規則で定める、我が国と同等の水準にあると認められる個人情報保護制度を有する国",
                "a country whose regime the Personal Information Protection Commission recognises as equivalent to Japan's",
            ),
            Some(ForeignBasis::EquivalentMeasures) => t(
                lang,
                "個人情報保護委員会規則で定める基準に適合する体制を整備している事業者(措置の実施状況を定期的に確認し、ご請求により必要な情報を提供します)",
                "a recipient that keeps a system meeting the Commission's standards (checked periodically; the details are given on request)",
            ),
            Some(ForeignBasis::Consent) => t(
                lang,
                "外国の制度等の情報を提供した上でのご本人の同意",
                "your consent, given after being told about the country's regime and the recipient's measures",
            ),
            None => "",
        };
        if !basis.is_empty() {
            let _ = write!(
                s,
                "{}{}",
                t(
                    lang,
                    "。外国にある第三者への提供の根拠(個人情報保護法第28条): ",
                    ". Basis for provision abroad (APPI Art. 28): "
                ),
                basis
            );
        }
        // APPI 28(2), rule 17(2): what the principal is told before consenting.
        if let Some(info) = &r.foreign_information {
            let _ = write!(
                s,
                "{}{}",
                t(
                    lang,
                    "。提供先の国の制度等: ",
                    ". About the country and the recipient: "
                ),
                info.get(lang).trim_end_matches(['。', '.'])
            );
        }
    }
    s.push_str(t(lang, "。", "."));
    let mut out = vec![Inline::Text(s)];
    if let Some(url) = &r.policy_url {
        out.push(Inline::Text(
            t(
                lang,
                " 提供先の個人情報の取扱い: ",
                " The recipient's privacy policy: ",
            )
            .to_string(),
        ));
        out.push(Inline::Link(url.clone()));
    }
    out
}

fn country_label(code: &str, lang: Lang) -> String {
    let known: &[(&str, &str, &str)] = &[
        ("JP", "日本", "Japan"),
        ("US", "アメリカ合衆国", "United States"),
        ("GB", "英国", "United Kingdom"),
        ("IE", "アイルランド", "Ireland"),
        ("DE", "ドイツ", "Germany"),
        ("FR", "フランス", "France"),
        ("SG", "シンガポール", "Singapore"),
        ("KR", "大韓民国", "Republic of Korea"),
        ("CN", "中華人民共和国", "China"),
        ("VN", "ベトナム", "Viet Nam"),
        ("AU", "オーストラリア", "Australia"),
    ];
    known
        .iter()
        .find(|(c, _, _)| *c == code)
        .map_or_else(|| code.to_string(), |(_, ja, en)| lang_pick(lang, ja, en))
}

fn identity_label(m: IdentityMethod, lang: Lang) -> &'static str {
    match m {
        IdentityMethod::InPersonResidenceCard => t(
            lang,
            "窓口での在留カードの提示",
            "showing your residence card at the desk",
        ),
        IdentityMethod::InPersonIdDocument => t(
            lang,
            "窓口での本人確認書類(運転免許証、旅券等)の提示",
            "showing an identity document (driving licence, passport, etc.) at the desk",
        ),
        IdentityMethod::MailedCode => t(
            lang,
            "登録された住所への確認コードの郵送",
            "a confirmation code posted to your registered address",
        ),
        IdentityMethod::EmailCode => t(
            lang,
            "登録されたメールアドレスへの確認コードの送信",
            "a confirmation code sent to your registered email address",
        ),
    }
}

fn request_label(k: RequestKind, lang: Lang) -> &'static str {
    match k {
        RequestKind::PurposeNotice => t(lang, "利用目的の通知", "notice of purposes"),
        RequestKind::Disclosure => t(lang, "開示", "disclosure"),
        RequestKind::Correction => t(lang, "訂正", "correction"),
        RequestKind::Suspension => t(lang, "利用停止", "suspension of use"),
        RequestKind::Erasure => t(lang, "消去", "erasure"),
        RequestKind::ProvisionStop => t(
            lang,
            "第三者提供の停止",
            "stopping provision to third parties",
        ),
    }
}

fn yen(n: u32, lang: Lang) -> String {
    match (n, lang) {
        (0, Lang::Ja) => "無料".to_string(),
        (0, Lang::En) => "free".to_string(),
        (n, Lang::Ja) => format!("{n}円"),
        (n, Lang::En) => format!("¥{n}"),
    }
}

fn day_label(d: Day, lang: Lang) -> &'static str {
    match d {
        Day::Mon => t(lang, "月曜日", "Monday"),
        Day::Tue => t(lang, "火曜日", "Tuesday"),
        Day::Wed => t(lang, "水曜日", "Wednesday"),
        Day::Thu => t(lang, "木曜日", "Thursday"),
        Day::Fri => t(lang, "金曜日", "Friday"),
        Day::Sat => t(lang, "土曜日", "Saturday"),
        Day::Sun => t(lang, "日曜日", "Sunday"),
    }
}

fn day_index(d: Day) -> usize {
    match d {
        Day::Mon => 0,
        Day::Tue => 1,
        Day::Wed => 2,
        Day::Thu => 3,
        Day::Fri => 4,
        Day::Sat => 5,
        Day::Sun => 6,
    }
}

/// "月曜日から金曜日まで" for a run of three or more consecutive days, else the days listed.
fn days_label(days: &[Day], lang: Lang) -> String {
    let consecutive = days.len() >= 3
        && days.windows(2).all(|w| match w {
            [a, b] => day_index(*a) + 1 == day_index(*b),
            _ => false,
        });
    match (consecutive, days.first(), days.last()) {
        (true, Some(a), Some(b)) => match lang {
            Lang::Ja => format!("{}から{}まで", day_label(*a, lang), day_label(*b, lang)),
            Lang::En => format!("{} to {}", day_label(*a, lang), day_label(*b, lang)),
        },
        _ => {
            let v: Vec<String> = days
                .iter()
                .map(|d| day_label(*d, lang).to_string())
                .collect();
            join(lang, &v)
        }
    }
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn month_day(s: &str, lang: Lang) -> String {
    let parsed = s
        .split_once('-')
        .and_then(|(m, d)| Some((m.parse::<usize>().ok()?, d.parse::<u32>().ok()?)));
    match parsed {
        Some((m, d)) => match lang {
            Lang::Ja => format!("{m}月{d}日"),
            Lang::En => match m.checked_sub(1).and_then(|i| MONTHS.get(i)) {
                Some(name) => format!("{name} {d}"),
                None => s.to_string(),
            },
        },
        None => s.to_string(),
    }
}

fn month_day_range(from: &str, to: &str, lang: Lang) -> String {
    match lang {
        Lang::Ja => format!("{}から{}まで", month_day(from, lang), month_day(to, lang)),
        Lang::En => format!("{} to {}", month_day(from, lang), month_day(to, lang)),
    }
}

/// A policy date in the notice's style: 令和4年4月1日 in Japanese (as the seeds date
/// themselves), April 1, 2022 in English.
fn date_label(s: &str, lang: Lang) -> String {
    let Ok(d) = parse_ymd(s) else {
        return s.to_string();
    };
    let (y, m, day) = (i32::from(d.year()), d.month(), d.day());
    match lang {
        Lang::Ja => {
            let era = if (y, m, day) >= (2019, 5, 1) {
                Some(("令和", y - 2018))
            } else if (y, m, day) >= (1989, 1, 8) {
                Some(("平成", y - 1988))
            } else {
                None
            };
            match era {
                Some((name, 1)) => format!("{name}元年{m}月{day}日"),
                Some((name, n)) => format!("{name}{n}年{m}月{day}日"),
                None => format!("{y}年{m}月{day}日"),
            }
        }
        Lang::En => {
            let month = usize::try_from(m)
                .ok()
                .and_then(|m| m.checked_sub(1))
                .and_then(|i| MONTHS.get(i))
                .copied()
                .unwrap_or("");
            format!("{month} {day}, {y}")
        }
    }
}

/// `P3Y` as "3年" / "3 years".
pub(crate) fn duration_label(s: &str, lang: Lang) -> String {
    let Ok(span) = parse_duration(s) else {
        return s.to_string();
    };
    let parts = [
        (i64::from(span.get_years()), "年", "year"),
        (i64::from(span.get_months()), "か月", "month"),
        (i64::from(span.get_weeks()), "週間", "week"),
        (i64::from(span.get_days()), "日", "day"),
    ];
    let v: Vec<String> = parts
        .iter()
        .filter(|(n, _, _)| *n != 0)
        .map(|(n, ja, en)| match lang {
            Lang::Ja => format!("{n}{ja}"),
            Lang::En if *n == 1 => format!("1 {en}"),
            Lang::En => format!("{n} {en}s"),
        })
        .collect();
    match lang {
        Lang::Ja => v.concat(),
        Lang::En => v.join(" "),
    }
}

fn retention_label(c: &Channel, lang: Lang) -> String {
    let d = duration_label(&c.retention, lang);
    match (c.retention_from, lang) {
        (RetentionFrom::LastActivity, Lang::Ja) => format!("最後の利用・連絡から{d}"),
        (RetentionFrom::LastActivity, Lang::En) => {
            format!("{d} after the last activity or contact")
        }
        (RetentionFrom::Collection, Lang::Ja) => format!("取得から{d}"),
        (RetentionFrom::Collection, Lang::En) => format!("{d} after collection"),
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown.

/// Backslash-escape the characters that are markup in CommonMark, so that policy text is always
/// text (a `<script>` in a policy string stays literal when the Markdown is turned into HTML).
pub(crate) fn escape_markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        if matches!(
            ch,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '&' | '#'
        ) {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

/// A URL safe to emit as a link: http(s), no spaces, quotes or angle brackets.
fn safe_url(u: &str) -> bool {
    (u.starts_with("https://") || u.starts_with("http://"))
        && !u
            .chars()
            .any(|c| c.is_whitespace() || matches!(c, '<' | '>' | '"' | '\'' | '`'))
}

fn md_run(r: &Run) -> String {
    r.iter()
        .map(|i| match i {
            Inline::Text(s) => escape_markdown(s),
            Inline::Link(u) if safe_url(u) => format!("<{u}>"),
            Inline::Link(u) => escape_markdown(u),
        })
        .collect()
}

fn markdown(doc: &[Block]) -> String {
    let mut out = String::new();
    for b in doc {
        match b {
            Block::Title(s) => {
                let _ = writeln!(out, "# {}\n", escape_markdown(s));
            }
            Block::Heading(s) => {
                let _ = writeln!(out, "## {}\n", escape_markdown(s));
            }
            Block::Subheading(s) => {
                let _ = writeln!(out, "### {}\n", escape_markdown(s));
            }
            Block::Para(r) => {
                let _ = writeln!(out, "{}\n", md_run(r));
            }
            Block::List(items) => {
                for i in items {
                    let _ = writeln!(out, "- {}", md_run(i));
                }
                out.push('\n');
            }
            Block::Numbered(items) => {
                for (n, i) in items.iter().enumerate() {
                    let _ = writeln!(out, "{}. {}", n + 1, md_run(i));
                }
                out.push('\n');
            }
            Block::Table { head, rows } => {
                let cells = |v: &[String]| {
                    v.iter()
                        .map(|c| escape_markdown(&c.replace('\n', " ")))
                        .collect::<Vec<_>>()
                        .join(" | ")
                };
                let _ = writeln!(out, "| {} |", cells(head));
                let _ = writeln!(out, "|{}", "---|".repeat(head.len()));
                for r in rows {
                    let _ = writeln!(out, "| {} |", cells(r));
                }
                out.push('\n');
            }
            Block::Footer(lines) => {
                out.push_str("---\n\n");
                for l in lines {
                    let _ = writeln!(out, "{}  ", escape_markdown(l));
                }
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// HTML.

/// Escape text for HTML element content and attribute values.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn html_run(r: &Run) -> String {
    r.iter()
        .map(|i| match i {
            Inline::Text(s) => escape_html(s),
            Inline::Link(u) if safe_url(u) => {
                let e = escape_html(u);
                format!("<a href=\"{e}\">{e}</a>")
            }
            Inline::Link(u) => escape_html(u),
        })
        .collect()
}

const CSS: &str = "body{margin:0;background:#fff;color:#111;font-family:system-ui,\"Hiragino Sans\",\"Noto Sans JP\",\"Yu Gothic\",sans-serif;line-height:1.75}\
main{max-width:46rem;margin:0 auto;padding:1.5rem}\
h1{font-size:1.6rem;line-height:1.4}\
h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #888}\
h3{font-size:1.05rem}\
table{border-collapse:collapse;width:100%}\
th,td{border:1px solid #888;padding:.3rem .5rem;text-align:left;vertical-align:top}\
a{color:#0645ad}\
footer{margin-top:2.5rem;border-top:1px solid #888;font-size:.95rem}\
@media print{main{max-width:none;padding:0}a{color:#000}a::after{content:\" (\" attr(href) \")\"}h2,h3{break-after:avoid}tr,li{break-inside:avoid}}";

fn html(doc: &[Block], lang: Lang) -> String {
    let title = doc
        .iter()
        .find_map(|b| match b {
            Block::Title(s) => Some(s.as_str()),
            _ => None,
        })
        .unwrap_or("");
    let mut out = String::new();
    let _ = write!(
        out,
        "<!doctype html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{CSS}</style>\n</head>\n<body>\n<main>\n",
        t(lang, "ja", "en"),
        escape_html(title)
    );
    let mut section = 0;
    for b in doc {
        match b {
            Block::Title(s) => {
                let _ = writeln!(out, "<h1>{}</h1>", escape_html(s));
            }
            Block::Heading(s) => {
                section += 1;
                let _ = writeln!(out, "<h2 id=\"s{section}\">{}</h2>", escape_html(s));
            }
            Block::Subheading(s) => {
                let _ = writeln!(out, "<h3>{}</h3>", escape_html(s));
            }
            Block::Para(r) => {
                let _ = writeln!(out, "<p>{}</p>", html_run(r));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", html_run(i));
                }
                out.push_str("</ul>\n");
            }
            Block::Numbered(items) => {
                out.push_str("<ol>\n");
                for i in items {
                    let _ = writeln!(out, "<li>{}</li>", html_run(i));
                }
                out.push_str("</ol>\n");
            }
            Block::Table { head, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for h in head {
                    let _ = write!(out, "<th scope=\"col\">{}</th>", escape_html(h));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for r in rows {
                    out.push_str("<tr>");
                    for (i, c) in r.iter().enumerate() {
                        if i == 0 {
                            let _ = write!(out, "<th scope=\"row\">{}</th>", escape_html(c));
                        } else {
                            let _ = write!(out, "<td>{}</td>", escape_html(c));
                        }
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            Block::Footer(lines) => {
                out.push_str("<footer>\n");
                for l in lines {
                    let _ = writeln!(out, "<p>{}</p>", escape_html(l));
                }
                out.push_str("</footer>\n");
            }
        }
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
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
    use crate::{PRESETS, preset};

    fn presets() -> Vec<(&'static str, Policy)> {
        PRESETS
            .iter()
            .map(|(n, text)| (*n, Policy::parse(text, n).unwrap()))
            .collect()
    }

    fn esc(format: Format, s: &str) -> String {
        match format {
            Format::Markdown => escape_markdown(s),
            Format::Html => escape_html(s),
        }
    }

    const ALL: [(Lang, Format); 4] = [
        (Lang::Ja, Format::Markdown),
        (Lang::Ja, Format::Html),
        (Lang::En, Format::Markdown),
        (Lang::En, Format::Html),
    ];

    #[test]
    fn every_purpose_recipient_and_complaint_hours_appear_in_every_rendering() {
        for (name, p) in presets() {
            for (lang, format) in ALL {
                let out = render(&p, lang, format);
                for x in &p.purposes {
                    let text = lang_pick(lang, &x.ja, &x.en);
                    assert!(
                        out.contains(&esc(format, &text)),
                        "{name} {lang:?} {format:?}: purpose {}",
                        x.id
                    );
                }
                for r in &p.recipients {
                    assert!(
                        out.contains(&esc(format, r.name.get(lang))),
                        "{name} {lang:?} {format:?}: recipient {}",
                        r.id
                    );
                    if let Some(u) = &r.policy_url {
                        assert!(out.contains(u.as_str()), "{name}: policy url of {}", r.id);
                    }
                }
                let w = &p.complaints.window;
                assert!(
                    out.contains(&w.opens) && out.contains(&w.closes),
                    "{name} {lang:?} {format:?}: hours"
                );
                assert!(out.contains(&esc(format, p.organization.name.get(lang))));
                for e in &p.exceptions {
                    assert!(
                        out.contains(&esc(format, &lang_pick(lang, &e.ja, &e.en))),
                        "{name}: exception"
                    );
                }
                for m in &p.security.measures {
                    assert!(
                        out.contains(&esc(format, &lang_pick(lang, &m.ja, &m.en))),
                        "{name}: measure {}",
                        m.id
                    );
                }
            }
        }
    }

    #[test]
    fn tokyo_one_notice_states_the_window_as_article_23_does() {
        let p = Policy::parse(preset("tokyo-one").unwrap(), "tokyo-one").unwrap();
        let ja = render(&p, Lang::Ja, Format::Markdown);
        assert!(ja.contains("月曜日から金曜日まで 10:00〜16:00"), "{ja}");
        assert!(
            ja.contains("国民の祝日及び振替休日、12月29日から1月3日まで"),
            "{ja}"
        );
        assert!(ja.contains("制定日: 平成30年4月1日"), "{ja}");
        assert!(ja.contains("出入国在留管理庁"));
        assert!(ja.contains("卒業・退学から5年"));
        let en = render(&p, Lang::En, Format::Markdown);
        assert!(
            en.contains("Monday to Friday, 10:00 to 16:00 (Japan time)"),
            "{en}"
        );
        assert!(en.contains("December 29 to January 3"), "{en}");
        assert!(
            en.contains("5 years after graduation or withdrawal"),
            "{en}"
        );
        assert_eq!(
            retention_label(p.channel("inquiry").unwrap(), Lang::En),
            "1 year after the last activity or contact"
        );
    }

    #[test]
    fn chiba_ia_notice_links_the_recipients_policies_and_dates_itself_in_reiwa() {
        let p = Policy::parse(preset("chiba-ia").unwrap(), "chiba-ia").unwrap();
        let html = render(&p, Lang::Ja, Format::Html);
        assert!(html.contains("<a href=\"https://stripe.com/jp/ssa\">"));
        assert!(html.contains("<a href=\"https://select-type.com/pp.php\">"));
        assert!(html.contains("制定日: 令和4年4月1日"));
        let md = render(&p, Lang::En, Format::Markdown);
        assert!(md.contains("<https://stripe.com/jp/ssa>"));
        assert!(md.contains("Established: April 1, 2022"));
    }

    #[test]
    fn html_is_a_complete_page_with_lang_and_no_external_assets() {
        for (_, p) in presets() {
            for lang in [Lang::Ja, Lang::En] {
                let out = render(&p, lang, Format::Html);
                assert!(out.starts_with("<!doctype html>\n<html lang=\""));
                assert!(out.contains(&format!("<html lang=\"{}\">", t(lang, "ja", "en"))));
                assert!(out.contains("<meta charset=\"utf-8\">") && out.contains("<title>"));
                assert!(out.contains("<main>") && out.trim_end().ends_with("</html>"));
                assert!(out.contains("@media print"));
                assert!(
                    !out.contains("<link") && !out.contains("<script") && !out.contains("src=")
                );
            }
        }
    }

    #[test]
    fn html_escapes_every_policy_string() {
        let mut p = Policy::parse(preset("chiba-ia").unwrap(), "chiba-ia").unwrap();
        p.purposes[0].ja = "<script>alert('x')</script>".to_string();
        p.organization.name.ja = "A & B \"quoted\"".to_string();
        p.recipients[0].policy_url = Some("javascript:alert(1)".to_string());
        let out = render(&p, Lang::Ja, Format::Html);
        assert!(!out.contains("<script>"), "raw script tag in output");
        assert!(out.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;"));
        assert!(out.contains("<title>A &amp; B &quot;quoted&quot; 個人情報保護方針</title>"));
        assert!(!out.contains("href=\"javascript:"));
    }

    #[test]
    fn markdown_escapes_markup_in_policy_strings() {
        let mut p = Policy::parse(preset("tokyo-one").unwrap(), "tokyo-one").unwrap();
        p.purposes[0].en = "<script>x</script> *bold* [link](u)".to_string();
        let out = render(&p, Lang::En, Format::Markdown);
        assert!(!out.contains("<script>"));
        assert!(out.contains("\\<script\\>x\\</script\\> \\*bold\\* \\[link\\](u)"));
    }

    #[test]
    fn format_parses_markdown_and_html_only() {
        assert_eq!("markdown".parse::<Format>().unwrap(), Format::Markdown);
        assert_eq!("html".parse::<Format>().unwrap(), Format::Html);
        let e = "pdf".parse::<Format>().unwrap_err();
        assert!(e.contains("markdown or html") && !e.contains('\n'));
    }

    #[test]
    fn durations_and_dates_read_naturally() {
        assert_eq!(duration_label("P3Y", Lang::Ja), "3年");
        assert_eq!(duration_label("P6M", Lang::En), "6 months");
        assert_eq!(duration_label("P1Y", Lang::En), "1 year");
        assert_eq!(date_label("2019-05-01", Lang::Ja), "令和元年5月1日");
        assert_eq!(date_label("2019-04-30", Lang::Ja), "平成31年4月30日");
        assert_eq!(date_label("2020-04-01", Lang::En), "April 1, 2020");
        assert_eq!(
            days_label(&[Day::Mon, Day::Wed], Lang::En),
            "Monday, Wednesday"
        );
    }
}
