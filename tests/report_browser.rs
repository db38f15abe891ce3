//! The HTML report in a real browser: headless Chromium driven by
//! chromedriver over the W3C WebDriver HTTP protocol.
//!
//! A realistic report (2,400 synthetic responses over twelve weeks, the
//! shipped contact-center taxonomy, three segment columns, statistics
//! computed by the library and every optional section filled) is rendered to
//! a file and opened. The test checks what a reader gets: the headline NPS,
//! every chart as an SVG with its bars inside its box, the driver tables, the
//! manifest; that a hostile comment shows as text and runs nothing; that the
//! console stays free of errors and warnings (a CSP violation would show
//! there); that the page fits a laptop screen and prints. It saves a
//! full-page screenshot to `target/report-screenshot.png` (and the page and
//! its PDF print beside it) for a person to look at.
//!
//! Chromium and chromedriver come from Debian (`chromium`,
//! `chromium-driver`); scripts/test.sh installs them. Without them this test
//! fails, it does not skip: a green run must mean the page was looked at.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use verbatim::classify::Taxonomy;
use verbatim::output::manifest::{
    Counts, InputInfo, ModelInfo, NpsInfo, RunManifest, TableInfo, TaxonomyInfo, Thresholds,
    Timings,
};
use verbatim::pipeline::PassResult;
use verbatim::report::{render, ExampleComment, ReportData, TopicExamples};
use verbatim::stats::aggregate::{aggregate, AggInput, Period};
use verbatim::stats::alerts::PeriodCounts;
use verbatim::stats::driver_stats::{analyse, AnalysisSettings, DriverCounts};
use verbatim::stats::drivers::{rank, topic_drivers, DriverInput};
use verbatim::stats::followup::Followup;
use verbatim::stats::nps::{Bucket, Nps, Z95};
use verbatim::stats::patterns::{PatternCounts, SegmentPatterns};
use verbatim::stats::response::{DriverScope, DriverTable};

const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";
const HOSTILE: &str = "</script><img src=x onerror=alert(1)>";
const RUN_ID: &str = "20261125T093000Z-5f3a9c1e";
/// W3C WebDriver's key for an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

// ---------------------------------------------------------------------------
// A realistic run

/// Small deterministic generator (xorshift64*), so the data and the page are
/// the same on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
    fn chance(&mut self, p: f64) -> bool {
        self.next() < p
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Pol {
    Neg,
    Neu,
    Pos,
}

/// Per topic id, how likely a detractor, passive or promoter mentions it and
/// with which polarity.
fn mention_model() -> Vec<(&'static str, [(f64, Pol); 3])> {
    use Pol::*;
    vec![
        ("wait_time", [(0.38, Neg), (0.12, Neu), (0.05, Pos)]),
        ("transfers", [(0.16, Neg), (0.05, Neg), (0.01, Neu)]),
        ("billing", [(0.14, Neg), (0.06, Neu), (0.02, Neu)]),
        ("resolution", [(0.22, Neg), (0.10, Neu), (0.24, Pos)]),
        (
            "agent_friendliness",
            [(0.06, Neg), (0.18, Pos), (0.42, Pos)],
        ),
        ("agent_competence", [(0.08, Neg), (0.10, Neu), (0.21, Pos)]),
        ("callback", [(0.07, Neg), (0.02, Neu), (0.01, Pos)]),
        ("self_service", [(0.05, Neg), (0.07, Neu), (0.06, Pos)]),
        // Rare: a small base, listed as too few to rank.
        ("delivery", [(0.008, Neg), (0.0, Neu), (0.0, Pos)]),
    ]
}

fn realistic_report() -> ReportData {
    let taxonomy = Taxonomy::default_contact_center();
    let topic_ids: Vec<String> = taxonomy.topics.iter().map(|t| t.id.clone()).collect();
    let model = mention_model();
    let index = |id: &str| topic_ids.iter().position(|t| t == id).unwrap();

    let n = 2400;
    let start = chrono::NaiveDate::from_ymd_opt(2026, 9, 7).unwrap(); // a Monday
    let channels = ["phone", "chat", "email", "social media"];
    let regions = ["North", "South", "East", "West"];
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut buckets = Vec::with_capacity(n);
    let mut dates = Vec::with_capacity(n);
    let mut channel = Vec::with_capacity(n);
    let mut region = Vec::with_capacity(n);
    let mut plan = Vec::with_capacity(n);
    let mut with_comment = 0;
    for i in 0..n {
        let week = (i * 12 / n) as u64;
        let day = (rng.next() * 7.0) as u64;
        dates.push(Some(start + chrono::Days::new(7 * week + day)));
        let c = match rng.next() {
            x if x < 0.55 => 0,
            x if x < 0.85 => 1,
            x if x < 0.99 => 2,
            _ => 3,
        };
        channel.push(channels[c].to_string());
        // A handful of responses carry a hostile region value.
        region.push(if i % 300 == 7 {
            HOSTILE.to_string()
        } else {
            regions[(rng.next() * 4.0) as usize].to_string()
        });
        // NPS drifts down over the weeks; chat does worse.
        let shift = -0.012 * week as f64 + if c == 1 { -0.10 } else { 0.0 };
        let u = rng.next();
        let b = if u < 0.28 - shift / 2.0 {
            Bucket::Detractor
        } else if u < 0.50 - shift {
            Bucket::Passive
        } else {
            Bucket::Promoter
        };
        buckets.push(b);
        let k = match b {
            Bucket::Detractor => 0,
            Bucket::Passive => 1,
            Bucket::Promoter => 2,
        };
        let mut hits = Vec::new();
        if rng.chance(0.8) {
            with_comment += 1;
            for (id, probs) in &model {
                let (p, pol) = probs[k];
                if rng.chance(p) {
                    // Clause sentiment is noisy: mostly the usual polarity.
                    let pol = match rng.next() {
                        x if x < 0.75 => pol,
                        x if x < 0.9 => Pol::Neu,
                        _ if pol == Pol::Neg => Pol::Pos,
                        _ => Pol::Neg,
                    };
                    hits.push((index(id), pol));
                }
            }
            // The last week's billing spike among detractors: an alert.
            let billing = index("billing");
            if week == 11 && k == 0 && !hits.iter().any(|h| h.0 == billing) && rng.chance(0.5) {
                hits.push((billing, Pol::Neg));
            }
        }
        plan.push(hits);
    }

    let min_n = 30;
    let drivers: Vec<DriverTable> = DriverScope::ALL
        .iter()
        .map(|&scope| {
            let mentions: Vec<Vec<usize>> = plan
                .iter()
                .map(|hits| {
                    hits.iter()
                        .filter(|(_, pol)| match scope {
                            DriverScope::Any => true,
                            DriverScope::Negative => *pol == Pol::Neg,
                            DriverScope::Positive => *pol == Pol::Pos,
                        })
                        .map(|(t, _)| *t)
                        .collect()
                })
                .collect();
            let drivers = topic_drivers(&DriverInput {
                buckets: &buckets,
                mentions: &mentions,
                topics: &topic_ids,
                min_n,
            });
            let ranking = rank(&drivers);
            DriverTable {
                scope,
                drivers,
                ranking,
            }
        })
        .collect();
    let agg = aggregate(&AggInput {
        buckets: &buckets,
        dates: &dates,
        segments: &[
            ("channel".to_string(), channel),
            ("region".to_string(), region),
        ],
        periods: &[Period::Week, Period::Month],
        min_n,
        q: 0.05,
    });
    // The driver statistics from the same responses, as the pass counts
    // them: any mention, topic × polarity (negative t, positive k + t), per
    // week, an agent column (one agent is praised for friendliness) and a
    // follow-up list of the last week's detractors.
    let k = topic_ids.len();
    let (mut any, mut polar) = (PatternCounts::new(k), PatternCounts::new(2 * k));
    let mut weeks: Vec<(PatternCounts, PatternCounts)> = (0..12)
        .map(|_| (PatternCounts::new(k), PatternCounts::new(2 * k)))
        .collect();
    let mut agents = SegmentPatterns::new("agent", 2 * k, None);
    let friendly = index("agent_friendliness");
    let mut followups = Vec::new();
    let mut candidates = 0;
    for (i, (&b, hits)) in buckets.iter().zip(&plan).enumerate() {
        let a: Vec<usize> = hits.iter().map(|h| h.0).collect();
        let p: Vec<usize> = hits
            .iter()
            .filter_map(|&(t, pol)| match pol {
                Pol::Neg => Some(t),
                Pol::Pos => Some(k + t),
                Pol::Neu => None,
            })
            .collect();
        let week = i * 12 / n;
        any.add(b, &a);
        polar.add(b, &p);
        weeks[week].0.add(b, &a);
        weeks[week].1.add(b, &p);
        let agent = if hits.contains(&(friendly, Pol::Pos)) && i % 3 == 0 {
            format!("Anna {HOSTILE}")
        } else {
            ["Ben", "Chloé", "Dev"][i % 3].to_string()
        };
        agents.add(&agent, b, &p);
        if b == Bucket::Detractor {
            candidates += 1;
            if week == 11 && followups.len() < 25 {
                followups.push(Followup {
                    response_id: format!("r{i}"),
                    line: i as u64 + 2,
                    score: 2,
                    bucket: b,
                    date: dates[i],
                    segments: vec![],
                    topics: vec![],
                    signals: if i % 4 == 0 {
                        vec!["cancellation=kündigen".into()]
                    } else {
                        vec![]
                    },
                    sentiment_score: Some(-0.8),
                    risk: 1.0,
                    comment: String::new(),
                });
            }
        }
    }
    let counts = DriverCounts {
        any,
        polar,
        segments: Vec::new(),
        teams: vec![agents],
        period: Some(Period::Week),
        periods: weeks
            .into_iter()
            .enumerate()
            .map(|(w, (any, polar))| {
                let start = start + chrono::Days::new(7 * w as u64);
                PeriodCounts {
                    start,
                    label: Period::Week.label(start),
                    any,
                    polar,
                }
            })
            .collect(),
        mismatches: 0,
        followup_candidates: candidates,
        followups,
    };
    let analysis = analyse(
        counts,
        &topic_ids,
        &AnalysisSettings {
            min_n,
            fdr: 0.05,
            bootstrap: Default::default(),
            alert_z: 3.0,
        },
    );
    let nps = Nps::from_buckets(buckets.iter().copied());
    let (read, rejected) = (n as u64 + 9, 9);
    let result = PassResult {
        counts: verbatim::stats::driver_stats::DriverCounts::empty(),
        topics: Default::default(),
        read,
        analysed: n as u64,
        rejected,
        with_comment,
        placeholder_comments: 0,
        nps,
        unparsed_dates: 4,
        first_unparsed_date: None,
        agg_columns: vec!["channel".into(), "region".into()],
        agg,
        drivers,
        texts_embedded: with_comment as usize,
        embed_time: Duration::from_millis(5400),
    };
    let manifest = RunManifest {
        run_id: RUN_ID.into(),
        tool: "verbatim 0.1.0".into(),
        started_at: "2026-11-25T09:30:00Z".into(),
        finished_at: "2026-11-25T09:30:41Z".into(),
        mode: Default::default(),
        mode_note: None,
        input: InputInfo {
            path: format!("/data/exports/nps-q4{HOSTILE}.csv"),
            sha256: "5f3a9c1e0d7b2a4c6e8f1a3b5c7d9e0f2a4b6c8d0e1f3a5b7c9d1e3f5a7b9c1d".into(),
            format: "csv".into(),
            sheet: None,
            encoding: "UTF-8".into(),
            delimiter: Some(";".into()),
            score_column: Some("Score".into()),
            text_column: "Comment".into(),
            questions: vec!["Comment".into()],
            id_column: Some("ResponseId".into()),
            date_column: Some("RecordedDate".into()),
            date_column_found_by: Some("name".into()),
            date_format: Some("dmy".into()),
            date_format_decided_by: Some("values".into()),
            first_unparsed_date: None,
            segment_columns: vec!["RecordedDate".into(), "channel".into(), "region".into()],
            aggregated_segment_columns: vec!["channel".into(), "region".into()],
            scale: Some("0-10".into()),
            left_out_columns: vec![],
            segment_column_names: vec![],
        },
        counts: Counts {
            read,
            analysed: n as u64,
            rejected,
            reject_rate: rejected as f64 / read as f64,
            with_comment,
            placeholder_comments: 0,
            unparsed_dates: 4,
            sentiment_mismatch: Some(0),
            followup_candidates: Some(0),
            followups: Some(0),
            alerts: 0,
        },
        nps: Some(NpsInfo {
            nps: nps.score(),
            ci95: nps.adjusted_wald(Z95),
            promoters: nps.promoters,
            passives: nps.passives,
            detractors: nps.detractors,
        }),
        model: ModelInfo {
            name: "multilingual-e5-small".into(),
            path: "models/cache/multilingual-e5-small".into(),
            sha256: "0b1c2d3e".into(),
            precision: "F32".into(),
        },
        taxonomy: TaxonomyInfo {
            name: taxonomy.name.clone(),
            version: taxonomy.version.clone(),
            topics: taxonomy.topics.len(),
        },
        sentiment: verbatim::output::manifest::SentimentInfo::shipped(),
        topics: verbatim::output::manifest::TopicsInfo::similarity_rule(),
        thresholds: Thresholds {
            min_n,
            fdr_q: 0.05,
            max_reject_rate: None,
            topic_threshold: 0.85,
            topic_margin: 0.02,
            topic_min_gap: 0.035,
            topic_keyword_gap: 0.0,
        },
        timings: Timings {
            texts_embedded: with_comment as usize,
            embed_seconds: 5.4,
            texts_per_second: with_comment as f64 / 5.4,
            total_seconds: 41.0,
            comments_per_second: with_comment as f64 / 41.0,
            texts_from_cache: 0,
        },
        cache: None,
        tables: vec![TableInfo {
            name: "fact_response".into(),
            rows: n,
            files: vec!["fact_response.parquet".into(), "fact_response.csv".into()],
            note: None,
        }],
    };
    let comment = |text: &str, score: u8| ExampleComment {
        text: text.into(),
        score: Some(score),
    };
    let examples = vec![
        TopicExamples {
            topic: "wait_time".into(),
            comments: vec![
                comment("Waited 45 minutes on hold before anyone picked up.", 2),
                comment(HOSTILE, 1),
                comment(
                    "Die Warteschleife ist eine Zumutung, [NAME] hat dann aber geholfen.",
                    5,
                ),
            ],
        },
        TopicExamples {
            topic: "agent_friendliness".into(),
            comments: vec![
                comment("[NAME] was super friendly and patient with me.", 10),
                comment("Très aimable, merci !", 9),
            ],
        },
        TopicExamples {
            topic: "transfers".into(),
            comments: vec![comment(
                "Transferred three times,\nand every time I had to explain it again.",
                3,
            )],
        },
    ];
    ReportData::from_run(&result, &manifest, &taxonomy, &analysis, 3.0, examples)
}

// ---------------------------------------------------------------------------
// WebDriver plumbing

/// chromedriver as a child process, killed when dropped (also on panic).
struct DriverProcess(Child);

impl Drop for DriverProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session, deleted (closing Chromium) when dropped.
struct Session {
    base: String,
    id: String,
    agent: ureq::Agent,
}

impl Session {
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        call(
            &self.agent,
            method,
            &format!("{}/session/{}{}", self.base, self.id, path),
            body,
        )
    }
    fn post(&self, path: &str, body: Value) -> Value {
        self.call("POST", path, Some(body))
            .unwrap_or_else(|e| panic!("POST {path}: {e}"))
    }
    fn script(&self, js: &str) -> Value {
        self.post("/execute/sync", json!({"script": js, "args": []}))
    }
    fn find(&self, css: &str) -> String {
        let v = self.post("/element", json!({"using": "css selector", "value": css}));
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = self.call("DELETE", "", None);
    }
}

/// One WebDriver command; the `value` of the answer, or the error text.
fn call(
    agent: &ureq::Agent,
    method: &str,
    url: &str,
    body: Option<Value>,
) -> Result<Value, String> {
    let req = agent.request(method, url);
    let res = match body {
        Some(b) => req.send_json(b),
        None => req.call(),
    };
    match res {
        Ok(r) => {
            let v: Value = r.into_json().map_err(|e| e.to_string())?;
            Ok(v["value"].clone())
        }
        Err(ureq::Error::Status(code, r)) => Err(format!(
            "HTTP {code}: {}",
            r.into_string().unwrap_or_default()
        )),
        Err(e) => Err(e.to_string()),
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free local port")
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"))
}

fn start_browser(profile: &Path) -> (DriverProcess, Session) {
    for bin in [CHROMEDRIVER, CHROMIUM] {
        assert!(
            Path::new(bin).exists(),
            "{bin} is missing: this test needs headless Chromium and chromedriver. \
             Run scripts/test.sh, which installs the Debian packages `chromium` and \
             `chromium-driver` (or: apt-get install -y chromium chromium-driver)."
        );
    }
    let port = free_port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
    let process = DriverProcess(child);
    let base = format!("http://127.0.0.1:{port}");
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(60))
        .build();
    let started = Instant::now();
    loop {
        match call(&agent, "GET", &format!("{base}/status"), None) {
            Ok(v) if v["ready"] == json!(true) => break,
            _ if started.elapsed() > Duration::from_secs(30) => {
                panic!("chromedriver on port {port} not ready after 30 s")
            }
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    let caps = json!({
        "capabilities": {
            "alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {
                    "binary": CHROMIUM,
                    "args": [
                        "--headless",
                        "--no-sandbox",
                        "--disable-gpu",
                        "--disable-quic",
                        "--no-first-run",
                        "--disable-background-networking",
                        "--disable-component-update",
                        "--disable-sync",
                        format!("--user-data-dir={}", profile.display()),
                    ]
                },
                "goog:loggingPrefs": {"browser": "ALL"}
            }
        }
    });
    let v = call(&agent, "POST", &format!("{base}/session"), Some(caps))
        .unwrap_or_else(|e| panic!("creating a Chromium session: {e}"));
    let id = v["sessionId"]
        .as_str()
        .unwrap_or_else(|| panic!("no session id in {v}"))
        .to_string();
    (process, Session { base, id, agent })
}

// ---------------------------------------------------------------------------
// The test

/// Facts about the loaded page, gathered in one script.
const FACTS: &str = r#"
const q = s => Array.from(document.querySelectorAll(s));
const chart = id => {
  const svg = document.getElementById(id);
  if (!svg) return null;
  const vb = svg.viewBox.baseVal;
  const bars = q('#' + id + ' rect.bar');
  const inside = bars.every(r => { const b = r.getBBox();
    return b.x >= vb.x - 0.5 && b.y >= vb.y - 0.5 && b.x + b.width <= vb.x + vb.width + 0.5 && b.y + b.height <= vb.y + vb.height + 0.5; });
  const label = (svg.getAttribute('aria-labelledby') || '').split(' ').map(i => document.getElementById(i)).filter(e => e && e.textContent.trim()).length;
  const box = svg.getBoundingClientRect();
  return { tag: svg.tagName.toLowerCase(), ns: svg.namespaceURI, role: svg.getAttribute('role'), labels: label,
           bars: bars.length, inside, zero: q('#' + id + ' .zero').length, points: q('#' + id + ' circle').length,
           band: q('#' + id + ' path.band').length, width: box.width, height: box.height };
};
const comments = q('q.comment').map(e => e.textContent);
return {
  title: document.title,
  nps: (document.getElementById('nps-value') || {}).textContent,
  charts: { down: chart('drivers-down-chart'), up: chart('drivers-up-chart'), trend: chart('trend-chart'),
            change: chart('change-chart'), importance: chart('importance-chart'), mix: chart('mix') },
  downRows: q('#drivers-down-table tbody tr').length,
  upRows: q('#drivers-up-table tbody tr').length,
  downHeaders: q('#drivers-down-table thead th[scope=col]').length,
  clippedTables: q('.table-wrap').filter(w => w.scrollWidth > w.clientWidth + 1).map(w => w.firstElementChild.id),
  segmentTables: q('table.segments').length,
  topicRows: q('#topics-table tbody tr').length,
  suppressedRows: q('tr.suppressed').length,
  smallBase: q('.small-base').length,
  manifest: (document.getElementById('manifest') || {}).textContent || '',
  manifestInDetails: !!document.querySelector('details > pre#manifest'),
  images: q('img').length,
  scripts: document.scripts.length,
  hostileAsText: comments.filter(t => t === '</script><img src=x onerror=alert(1)>').length,
  hostileInBody: document.body.textContent.split('<img src=x onerror=alert(1)>').length - 1,
  onerrorAttrs: q('[onerror]').length,
  scrollWidth: document.documentElement.scrollWidth,
  clientWidth: document.documentElement.clientWidth,
  overflowing: q('body *').filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
    .slice(0, 5).map(e => e.tagName + '#' + e.id + '.' + e.className + ' right=' + e.getBoundingClientRect().right),
  innerWidth: window.innerWidth,
  height: document.documentElement.scrollHeight,
  warnings: q('.warnings li').length,
  summary: q('ul.summary li').map(e => e.textContent),
  sections: ['importance-heading', 'trend-heading', 'change-heading', 'alerts-heading', 'team-heading', 'followup-heading']
    .map(id => { const h = document.getElementById(id); if (!h) return { id, present: false };
      const sec = h.closest('section'); const r = sec.getBoundingClientRect(); const st = getComputedStyle(sec);
      const lead = sec.querySelector('p.lead, p.empty');
      return { id, present: true, visible: r.width > 0 && r.height > 0 && st.visibility === 'visible' && st.display !== 'none',
               lead: lead ? lead.textContent : '' }; }),
  svgTexts: q('svg.chart text').filter(t => t.getBoundingClientRect().width > 0).length,
  clippedText: q('svg.chart text').filter(t => { const s = t.closest('svg').getBoundingClientRect(); const b = t.getBoundingClientRect();
      return b.width > 0 && (b.left < s.left - 1 || b.right > s.right + 1 || b.top < s.top - 1 || b.bottom > s.bottom + 1); })
    .map(t => t.closest('svg').id + ': ' + t.textContent),
  ellipses: q('svg.chart text').filter(t => t.textContent.includes('\u2026')).map(t => t.textContent),
  downSuppressedBars: q('#drivers-down-chart g.row.suppressed').length,
  downLabels: q('#drivers-down-chart text.label').map(t => t.textContent),
  tooFew: q('.too-few').map(e => e.textContent),
  alertRows: q('#alerts-table tbody tr').length,
  teamRows: q('#team-table tbody tr').length,
  importanceRows: q('#importance-table tbody tr').length,
  followup: (document.getElementById('followup-size') || {}).textContent || ''
};
"#;

#[test]
fn report_renders_in_headless_chromium() {
    let data = realistic_report();
    let html = render(&data);
    let work = tempfile::tempdir().unwrap();
    let page = work.path().join("report.html");
    std::fs::write(&page, &html).unwrap();
    let out = target_dir();
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("report-sample.html"), &html).unwrap();

    let profile = tempfile::tempdir().unwrap();
    let (_chromedriver, s) = start_browser(profile.path());
    s.post("/window/rect", json!({"width": 1366, "height": 900}));
    s.post("/url", json!({"url": format!("file://{}", page.display())}));

    // The hostile comment must not have opened an alert.
    match s.call("GET", "/alert/text", None) {
        Err(e) if e.contains("no such alert") => {}
        other => panic!("expected no alert, got {other:?}"),
    }

    let f = s.script(FACTS);
    println!("page facts: {f:#}");
    assert_eq!(f["title"], json!(data.title), "document title");
    let nps = data.headline.nps.unwrap();
    let shown = format!("{nps:.1}").replace('-', "\u{2212}");
    assert_eq!(f["nps"], json!(shown), "headline NPS");

    for (name, min_bars) in [("down", 2), ("up", 2), ("change", 5), ("importance", 6)] {
        let c = &f["charts"][name];
        assert_eq!(c["tag"], json!("svg"), "{name} chart: {c}");
        assert_eq!(c["ns"], json!("http://www.w3.org/2000/svg"), "{name}");
        assert_eq!(c["role"], json!("img"), "{name}");
        assert_eq!(c["labels"], json!(2), "{name}: title and desc");
        assert!(c["bars"].as_u64().unwrap() >= min_bars, "{name}: {c}");
        assert_eq!(c["inside"], json!(true), "{name}: bars inside the viewBox");
        assert!(c["width"].as_f64().unwrap() > 300.0, "{name} drawn: {c}");
    }
    for name in ["down", "up"] {
        assert_eq!(f["charts"][name]["zero"], json!(1), "{name}: one zero line");
    }
    let trend = &f["charts"]["trend"];
    assert_eq!(trend["points"], json!(12), "twelve weekly points: {trend}");
    assert!(trend["band"].as_u64().unwrap() >= 1, "CI band");
    assert!(f["charts"]["mix"]["width"].as_f64().unwrap() > 100.0);

    assert_eq!(f["downRows"], json!(data.detractor_drivers.len()));
    assert_eq!(f["upRows"], json!(data.promoter_drivers.len()));
    assert!(f["downRows"].as_u64().unwrap() >= 3);
    assert_eq!(f["downHeaders"], json!(5), "driver table headers");
    assert_eq!(
        f["clippedTables"],
        json!([]),
        "tables wider than their column"
    );
    assert_eq!(f["segmentTables"], json!(2));
    assert_eq!(f["topicRows"], json!(data.topics.len()));
    assert!(
        f["suppressedRows"].as_u64().unwrap() >= 2,
        "small bases greyed"
    );
    assert!(f["smallBase"].as_u64().unwrap() >= 2, "“n < 30” marks");
    assert!(
        f["manifest"].as_str().unwrap().contains(RUN_ID),
        "manifest block"
    );
    assert_eq!(f["manifestInDetails"], json!(true));
    assert_eq!(f["warnings"], json!(2), "rejects and unparsed dates");

    // The hostile text is shown as text, and nothing was injected.
    assert_eq!(f["images"], json!(0), "no <img> element");
    assert_eq!(f["onerrorAttrs"], json!(0));
    assert_eq!(f["scripts"], json!(1), "only the page's own script");
    assert_eq!(f["hostileAsText"], json!(1), "the comment reads as written");
    // Title, heading, file name, region value, agent name, comment,
    // manifest: all text.
    assert!(
        f["hostileInBody"].as_u64().unwrap() >= 6,
        "{}",
        f["hostileInBody"]
    );

    // The sections from the driver statistics are there, visible, and open
    // with a sentence for a manager.
    for sec in f["sections"].as_array().unwrap() {
        assert_eq!(sec["present"], json!(true), "{sec}");
        assert_eq!(sec["visible"], json!(true), "{sec}");
        assert!(
            sec["lead"].as_str().unwrap().len() > 20,
            "no sentence: {sec}"
        );
    }
    assert_eq!(
        f["importanceRows"],
        json!(data.importance.as_ref().unwrap().rows.len())
    );
    let alerts = data.alerts.as_ref().unwrap();
    assert!(alerts.total >= 1, "the billing spike fires an alert");
    assert_eq!(f["alertRows"], json!(alerts.rows.len()));
    let team = data.team.as_ref().unwrap();
    assert!(team.total >= 1, "Anna is praised for friendliness");
    assert_eq!(f["teamRows"], json!(team.rows.len()));
    assert!(
        f["followup"].as_str().unwrap().contains("25"),
        "{}",
        f["followup"]
    );
    // Ranked drivers: no small base among the bars, each topic once; the
    // rare topic is named as too few to rank.
    assert_eq!(f["downSuppressedBars"], json!(0));
    let labels: Vec<&str> = f["downLabels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    let mut unique = labels
        .iter()
        .map(|l| l.split(" (").next().unwrap())
        .collect::<Vec<_>>();
    unique.sort();
    unique.dedup();
    assert_eq!(
        unique.len(),
        labels.len(),
        "a topic once per side: {labels:?}"
    );
    assert!(
        f["tooFew"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains("Delivery")),
        "{}",
        f["tooFew"]
    );
    // No chart text is cut off: every label lies inside its SVG, and none
    // is shortened with an ellipsis.
    assert!(f["svgTexts"].as_u64().unwrap() > 50, "{}", f["svgTexts"]);
    assert_eq!(f["clippedText"], json!([]), "text outside its chart");
    assert_eq!(f["ellipses"], json!([]), "shortened labels");

    // Fits a laptop screen: no horizontal scrolling at 1366 px.
    assert!(
        f["scrollWidth"].as_u64().unwrap() <= f["clientWidth"].as_u64().unwrap(),
        "page wider than the window: {} > {}; overflowing: {}",
        f["scrollWidth"],
        f["clientWidth"],
        f["overflowing"]
    );

    // The sort script works: mentions ascending, then descending.
    let th = s.find("#topics-table thead th:nth-child(2)");
    let mentions = |s: &Session| -> (Value, Vec<f64>) {
        let v = s.script(
            "return [document.querySelector('#topics-table thead th:nth-child(2)').getAttribute('aria-sort'), \
             Array.from(document.querySelectorAll('#topics-table tbody tr td:nth-of-type(1)')).map(c => parseFloat(c.getAttribute('data-sort')))];",
        );
        (
            v[0].clone(),
            v[1].as_array()
                .unwrap()
                .iter()
                .map(|x| x.as_f64().unwrap())
                .collect(),
        )
    };
    s.post(&format!("/element/{th}/click"), json!({}));
    let (order, values) = mentions(&s);
    assert_eq!(order, json!("ascending"));
    assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
    s.post(&format!("/element/{th}/click"), json!({}));
    let (order, values) = mentions(&s);
    assert_eq!(order, json!("descending"));
    assert!(values.windows(2).all(|w| w[0] >= w[1]), "{values:?}");

    // Console: nothing at warning level or above (a CSP violation, a script
    // error or a failed load would be there).
    let logs = s
        .call("POST", "/se/log", Some(json!({"type": "browser"})))
        .or_else(|_| s.call("POST", "/log", Some(json!({"type": "browser"}))))
        .unwrap_or_else(|e| panic!("reading the browser log: {e}"));
    let entries = logs.as_array().cloned().unwrap_or_default();
    for e in &entries {
        println!("console: {} {}", e["level"], e["message"]);
    }
    let bad: Vec<&Value> = entries
        .iter()
        .filter(|e| matches!(e["level"].as_str(), Some("SEVERE" | "WARNING")))
        .collect();
    assert!(bad.is_empty(), "console errors or warnings: {bad:#?}");
    // The log channel works: a warning written now is read back, so the
    // empty list above is not an artefact of a log that never fills.
    s.script("console.warn('verbatim-probe'); return null;");
    let probe = s
        .call("POST", "/se/log", Some(json!({"type": "browser"})))
        .or_else(|_| s.call("POST", "/log", Some(json!({"type": "browser"}))))
        .unwrap_or_else(|e| panic!("reading the browser log: {e}"));
    assert!(
        probe
            .as_array()
            .is_some_and(|a| a.iter().any(|e| e["level"] == json!("WARNING")
                && e["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("verbatim-probe"))),
        "the browser log did not report a console.warn: {probe}"
    );

    // Printing works (W3C print): a PDF with at least two pages.
    let pdf = s.post("/print", json!({"background": true}));
    let pdf = base64_decode(pdf.as_str().expect("print answers base64"));
    assert!(pdf.starts_with(b"%PDF"), "print gives a PDF");
    let pages = count_pages(&pdf);
    std::fs::write(out.join("report-print.pdf"), &pdf).unwrap();
    // Printing opened the collapsed tables, not the manifest.
    let open = s.script(
        "return [document.getElementById('trend-table').closest('details').open, \
         document.getElementById('manifest').closest('details').open];",
    );
    assert_eq!(open, json!([true, false]), "details open after printing");

    // Full-page screenshot: through the DevTools protocol when chromedriver
    // offers it, else by growing the window to the page's height.
    let shot_path = out.join("report-screenshot.png");
    let height = f["height"].as_f64().unwrap();
    let png = s
        .call(
            "POST",
            "/goog/cdp/execute",
            Some(json!({"cmd": "Page.captureScreenshot", "params": {
                "format": "png", "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": 1366, "height": height, "scale": 1}
            }})),
        )
        .ok()
        .and_then(|v| v["data"].as_str().map(str::to_string))
        .unwrap_or_else(|| {
            s.post(
                "/window/rect",
                json!({"width": 1366, "height": height.min(16000.0)}),
            );
            s.call("GET", "/screenshot", None)
                .unwrap_or_else(|e| panic!("screenshot: {e}"))
                .as_str()
                .unwrap()
                .to_string()
        });
    let png = base64_decode(&png);
    assert!(png.starts_with(b"\x89PNG"), "screenshot is a PNG");
    std::fs::write(&shot_path, &png).unwrap();
    println!(
        "screenshot: {} ({} bytes, page {} px high); print: {} ({} pages, {} bytes)",
        shot_path.display(),
        png.len(),
        height,
        out.join("report-print.pdf").display(),
        pages,
        pdf.len()
    );
    assert!(
        pages >= 2,
        "the report prints on several pages, got {pages}"
    );
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .expect("valid base64")
}

/// Pages of a PDF: the `/Type /Page` objects (not `/Pages`).
fn count_pages(pdf: &[u8]) -> usize {
    let text = String::from_utf8_lossy(pdf);
    let mut by_spacing: BTreeMap<&str, usize> = BTreeMap::new();
    for pat in ["/Type /Page", "/Type/Page"] {
        let n = text
            .match_indices(pat)
            .filter(|(i, _)| !text[i + pat.len()..].starts_with('s'))
            .count();
        by_spacing.insert(pat, n);
    }
    by_spacing.values().copied().max().unwrap_or(0)
}
