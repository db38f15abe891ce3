//! Personal data masking for free-text comments, before they are stored or
//! shown: e-mail addresses, phone numbers, IBANs, card numbers, customer and
//! contract numbers and person names, in German, Dutch, English, French and
//! Spanish.
//!
//! A [`Redactor`] is built once (it compiles a handful of regular
//! expressions) and shared across threads; [`Redactor::redact`] returns the
//! masked text and the spans it found, so a run can count what it removed.
//!
//! # Shaped for precision
//!
//! A comment about a late parcel is full of numbers: dates, times, prices,
//! durations, quantities, postcodes, model numbers. Masking them would destroy
//! what the topic and sentiment models read, so a candidate is only masked
//! when it passes a check that look-alikes fail:
//!
//! - **Email** (`[EMAIL]`): `local@domain.tld`, Unicode letters allowed.
//! - **IBAN** (`[IBAN]`): a known country code, that country's length, and
//!   the ISO 13616 mod-97 checksum; with or without spaces, any case.
//! - **Card** (`[CARD]`): 13 to 19 digits with the Luhn checksum, an issuer
//!   prefix (Visa, Mastercard, Amex, Diners, JCB, Discover, UnionPay,
//!   Maestro) and a card-like grouping (none, fours, or Amex 4-6-5; spaces,
//!   dashes or dots between the groups).
//! - **Phone** (`[PHONE]`): `+` or `00` with 9 to 15 digits after it and no
//!   trunk `0` after the country code; a national number with a leading `0`
//!   and 9 to 12 digits (`0171 1234567`, `(0)171 1234567`, `06-12345678`,
//!   `(020) 123 4567`, `01.23.45.67.89`); a Spanish 9-digit number starting
//!   with 6 to 9 in its usual groupings (`612 345 678`, `91 123 45 67`); a
//!   North American 3-3-4 number (`(555) 123-4567`), also after its country
//!   code `1` (`1-800-555-0199`). A date at the start (`01.03.2024`), a
//!   unit or currency after it, or a decimal separator next to it rejects
//!   the candidate.
//! - **Customer number** (`[NUMBER]`): customer, contract, order, invoice,
//!   account, ticket, case, policy, membership, reference numbers, only after
//!   an anchor word (`Kundennummer`, `Kd.-Nr.`, `klantnummer`, `order #`,
//!   `account no.`, `numéro client`, `n° de contrat`, `nº de pedido`…) and
//!   only when the value has at least four digits. The anchor word stays, the
//!   value is masked.
//! - **Name** (`[NAME]`): a person's name after a salutation or title
//!   (`Herr`, `Frau`, `meneer`, `mevrouw`, `de heer`, `Mr`, `Ms`, `M.`,
//!   `Mme`, `Sra.`, `Dr.`…), a self-introduction (`my name is`, `ich heiße`,
//!   `mijn naam is`, `je m'appelle`, `me llamo`…; `ich bin` and `ik ben`
//!   only before two capitalised words), a form label (`name:`, `Naam:`,
//!   also with the surname first: `Name: Müller, Anna`), a contact phrase (`spoke
//!   to`, `gesproken met`, `parlé avec`, `hablé con`…) or a role word
//!   (`agent`, `Mitarbeiterin`, `medewerker`, `la conseillère`, `el
//!   agente`…). Up to four capitalised words with name particles between
//!   them (`Van der Berg`, `de Vries`, `Fernández de la Fuente`, `O'Brien`,
//!   `Dubois-N'Diaye`), and initials (`J. Peter Miller`). Lower-case names
//!   are taken after self-introductions
//!   (two words), salutations and contact phrases (one word), never after
//!   `Frau`, which also means "wife". Stop lists keep out
//!   "Herr der Ringe", "Frau am Telefon", "Monsieur le directeur", "spoke to
//!   Customer Services", "the agent I spoke to", "my name is on the account".
//!
//! # Columns
//!
//! [`column_kind`] tells whether a column other than the comment holds
//! personal data (e-mail addresses, phone numbers, IBANs or cards, person
//! names, free text), from a sample of its values; `analyze` then makes it
//! no automatic segment and writes its values through
//! [`PersonalColumn::mask`].
//!
//! # Out of scope
//!
//! Names without an anchor ("Sarah was great", "thanks to Jan"): telling a
//! first name from any other capitalised word needs a model or a name list,
//! and agents' first names are what contact centers coach on. Also not
//! masked: postal addresses and postcodes, dates of birth, national ID and
//! tax numbers, IMEIs and serial numbers, product and model codes, parcel
//! tracking numbers without an anchor word, names given after the verb ("ze
//! Lisa heette"), the last four digits of a card, and
//! IBANs or card numbers whose checksum fails (a typo'd IBAN leaks). Italian
//! numbers, which keep the trunk `0` after `+39`, are not recognised as
//! phones. The labelled set in `tests/data/redaction/comments.jsonl` follows
//! the same scope, and `examples/redaction_eval.rs` prints what the rules
//! reach on it.
//!
//! # Cost
//!
//! The `regex` crate matches in linear time, every pattern here has a bounded
//! length, and a rejected candidate is retried at most from a later position
//! within it, so a comment is processed in time linear in its length.

use std::collections::BTreeMap;
use std::ops::Range;

use regex::{Captures, Regex};

/// What a masked span was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PiiKind {
    Email,
    Phone,
    Iban,
    Card,
    /// Customer, contract, order, invoice, account, ticket or case number.
    CustomerNumber,
    /// A person's name.
    Name,
}

impl PiiKind {
    /// All kinds, in report order.
    pub const ALL: [PiiKind; 6] = [
        PiiKind::Email,
        PiiKind::Phone,
        PiiKind::Iban,
        PiiKind::Card,
        PiiKind::CustomerNumber,
        PiiKind::Name,
    ];

    /// Name as written in outputs and in the labelled set.
    pub fn as_str(self) -> &'static str {
        match self {
            PiiKind::Email => "email",
            PiiKind::Phone => "phone",
            PiiKind::Iban => "iban",
            PiiKind::Card => "card",
            PiiKind::CustomerNumber => "customer_number",
            PiiKind::Name => "name",
        }
    }

    /// The kind named `s` (as written by [`PiiKind::as_str`]).
    pub fn parse(s: &str) -> Option<PiiKind> {
        PiiKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The text that replaces a span of this kind.
    pub fn mask(self) -> &'static str {
        match self {
            PiiKind::Email => "[EMAIL]",
            PiiKind::Phone => "[PHONE]",
            PiiKind::Iban => "[IBAN]",
            PiiKind::Card => "[CARD]",
            PiiKind::CustomerNumber => "[NUMBER]",
            PiiKind::Name => "[NAME]",
        }
    }

    /// Which kind wins when two candidates overlap: checksummed and anchored
    /// kinds before the looser ones.
    fn priority(self) -> u8 {
        match self {
            PiiKind::Email => 0,
            PiiKind::Iban => 1,
            PiiKind::Card => 2,
            PiiKind::CustomerNumber => 3,
            PiiKind::Phone => 4,
            PiiKind::Name => 5,
        }
    }
}

/// One piece of personal data found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PiiSpan {
    /// Byte range in the original text (always on `char` boundaries).
    pub range: Range<usize>,
    pub kind: PiiKind,
}

/// A masked text and what was masked in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    /// The text with every span replaced by its kind's mask.
    pub text: String,
    /// The spans found, by position in the original text, not overlapping.
    pub spans: Vec<PiiSpan>,
}

impl Redacted {
    /// Number of spans of `kind`.
    pub fn count(&self, kind: PiiKind) -> usize {
        self.spans.iter().filter(|s| s.kind == kind).count()
    }

    /// Spans per kind, in the order of [`PiiKind::ALL`].
    pub fn counts(&self) -> [(PiiKind, usize); 6] {
        PiiKind::ALL.map(|k| (k, self.count(k)))
    }
}

/// Finds and masks personal data. Build once with [`Redactor::new`]; it is
/// `Send + Sync` and meant to be shared by reference across threads.
#[derive(Debug, Clone)]
pub struct Redactor {
    email: Regex,
    iban: Regex,
    card: Regex,
    phone: Regex,
    number: Regex,
    name_anchor: Regex,
    salutation: Regex,
}

impl Default for Redactor {
    fn default() -> Self {
        Redactor::new()
    }
}

// ---------------------------------------------------------------- patterns

/// Unbounded repetitions: bounded ones over Unicode classes compile to
/// automata above the regex crate's size limit. Matching stays linear.
const EMAIL: &str = r"[\p{L}\p{N}._%+\-]+@(?:[\p{L}\p{N}\-]+\.)+\p{L}{2,}";

const IBAN: &str = r"(?i)[a-z]{2}[0-9]{2}(?:[ \-]?[a-z0-9]){11,30}";

const CARD: &str = r"[0-9](?:[ \-.]?[0-9]){12,18}";

/// Digit groups with phone separators; validated in code.
const PHONE: &str = r"(?:\+[ ]?|\(\+?)?[0-9]{1,12}(?:(?:[ ]?\(0\)[ ]?|[ ]?[\-./][ ]?|\)[ ]?|[ ]?\(|[ ])[0-9]{1,12}\)?){0,7}";

/// Anchor words for customer-type numbers, then fillers, then the value.
/// Where one word is a prefix of another, the longer comes first
/// (`contrato|contrat`): the first alternative that matches wins.
const NUMBER: &str = concat!(
    r"(?i)(?-u:\b)(?:",
    // German and Dutch compounds: Kundennummer, Kd.-Nr., klantnr, polisnummer…
    r"(?:kunden|kd|vertrags|vertragskonto|auftrags|bestell|rechnungs|ticket|vorgangs|fall|referenz|konto|versicherten|versicherungs|mitglieds|buchungs|reklamations|schadens|sendungs",
    r"|klant|contract|order|bestel|factuur|dossier|zaak|referentie|polis|lid|storings|rekening|abonnee|aanvraag|meldings?)",
    r"\.?[ \t]?-?[ \t]?(?:nummer|nr\.?)",
    r"|aktenzeichen",
    // A bare invoice word takes only identifier-like values (see number_value).
    r"|(?P<bare>rechnung|factuur|invoice|facture|factura)",
    // English: customer number, account no., order #, case ref…
    r"|(?:customer|client|account|acct|acc|contract|order|invoice|ticket|case|reference|policy|membership|member|tracking|booking|incident|complaint|reservation|subscriber)",
    r"[ \t]?(?:number|num\.?|no\.?|nr\.?|id|ref\.?|#)",
    // French and Spanish: numéro client, n° de contrat, nº de pedido…
    r"|(?:n[úu]m[ée]ro|n[°º]|n\.[°º]|no\.|num\.|nro\.?)[ \t]?(?:de[ \t]+|d['’][ \t]?|du[ \t]+|del[ \t]+)?",
    r"(?:client(?:es?)?|contrato|contrat|commande|pedido|facture|factura|dossier|expediente|ticket|abonn[ée]|abonado|adh[ée]rent|socio|compte|cuenta|police|p[óo]liza|suivi|seguimiento|r[ée]clamation|reclamaci[óo]n|incidencia|incidente|caso|sinistre|siniestro|r[ée]f[ée]rence|referencia)",
    r"|(?:commande|facture|dossier|contrato|contrat|cliente|client|ticket|pedido|factura|expediente)[ \t]?(?:n[°º]|n\.[°º]|n[úu]m[ée]ro|no\.)",
    r"|r[ée]f(?:[ée]rence|\.)?[ \t]?(?:client|cliente|dossier|commande)",
    r")",
    r"(?:[ \t]*(?:[:#=(]|(?:ist|is|lautet|est|es|el|la|le|era|war|was)(?-u:\b))){0,3}[ \t]*#?[ \t]*",
    r"(?P<v>[a-z0-9]{1,20}(?:[\-/.][a-z0-9]{1,20}|[ ][0-9]{2,20}){0,5})",
);

/// Words after which a name may follow. Groups tell what kind of anchor.
const NAME_ANCHOR: &str = concat!(
    r"(?-u:\b)(?:",
    // Salutations written out: lower-case names allowed (but not after Frau).
    r"(?P<sal>(?i:herrn|herr|meneer|mevrouw|de[ ]heer|monsieur|madame|mademoiselle|se[ñn]orita|se[ñn]ora|se[ñn]or)(?-u:\b)\.?)",
    // Frau, English titles ("45 ms latency") and abbreviations:
    // capitalised names only.
    r"|(?P<abbr>(?i:frau|mrs|mr|ms|madam|mevr|mw|dhr|mme|mlle|srta|sra|sr|dr|prof|doña|dña|don|familie|fam|famille|familia)(?-u:\b)\.?|(?:Hr|Fr|M)\.)",
    // An ASCII `\b` after a non-ASCII letter ("parlé à", "atendió") never
    // holds, so those phrases go without it; name_after wants a space next.
    // Self-introductions: up to two lower-case words.
    r"|(?P<intro>(?i:my[ ]name[ ]is|my[ ]name's|ich[ ]hei(?:ß|ss)e|mein[ ]name[ ]ist|mijn[ ]naam[ ]is|ik[ ]heet|je[ ]m['’]appelle|mon[ ]nom[ ]est|me[ ]llamo|mi[ ]nombre[ ]es)(?-u:\b))",
    // "ich bin", "ik ben": capitalised first and last name only.
    r"|(?P<iam>(?i:ich[ ]bin|ik[ ]ben)(?-u:\b))",
    // A form label: "name: John Smith", "Name: Müller, Anna".
    r"|(?P<label>(?i:full[ ]name|vorname|nachname|voornaam|achternaam|name|naam|nom|nombre)[ \t]*:)",
    // Contact phrases.
    r"|(?P<talk>(?i:spoke[ ](?:to|with)|talked[ ](?:to|with)|speaking[ ](?:to|with)|helped[ ]by|gesprochen[ ]mit|sprach[ ]mit|telefoniert[ ]mit|gesproken[ ]met|sprak[ ]met|geholpen[ ]door|parl[ée][ ]avec|habl[ée][ ]con|hablado[ ]con|atendid[oa][ ]por)(?-u:\b)|(?i:parl[ée][ ]à))",
    // Roles and capitalised-only phrases ("soy", "someone called").
    r"|(?P<role>(?i:agente|agent|advisor|adviser|representative|operator|mitarbeiterin|mitarbeiter|kollegin|kollege|beraterin|berater|sachbearbeiterin|sachbearbeiter|medewerkster|medewerker|adviseur|conseillère|conseiller|opératrice|opérateur|operadora|operador|asesora|asesor|teleoperadora|teleoperador|soy|se[ ]llama|un[ ]tal|una[ ]tal|(?:someone|somebody|lady|man|guy|woman|gentleman|girl|chap|person)[ ](?:called|named))(?-u:\b)|(?i:s['’]appelle)(?-u:\b)|(?i:me[ ]atendió))",
    r")",
);

/// A salutation or title at the start of a text (to skip or defer to).
const SALUTATION: &str = r"^(?:(?i:herrn|herr|frau|meneer|mevrouw|mevr|mw|dhr|de[ ]heer|mrs|mr|ms|miss|monsieur|madame|mademoiselle|mme|mlle|se[ñn]orita|se[ñn]ora|se[ñn]or|srta|sra|sr|dr|prof|la|el|le|the|l['’])(?-u:\b)\.?|(?:Hr|Fr|M)\.)";

/// Particles that may start a name after a salutation (`mevrouw de Vries`,
/// `Mr Van der Merwe`), longest first.
const INITIAL_PARTICLES: &[&[&str]] = &[
    &["de", "la"],
    &["de", "las"],
    &["de", "los"],
    &["van", "der"],
    &["van", "den"],
    &["van", "de"],
    &["van", "'t"],
    &["von", "der"],
    &["van"],
    &["von"],
    &["de"],
    &["ter"],
    &["ten"],
    &["te"],
    &["da"],
    &["di"],
    &["del"],
    &["della"],
    &["dos"],
    &["das"],
    &["el"],
    &["al"],
    &["ben"],
    &["bin"],
    &["le"],
    &["la"],
    &["mac"],
    &["'t"],
];

/// Particles allowed between name words (`Fernández de la Fuente`).
const MIDDLE_PARTICLES: &[&[&str]] = &[
    &["van", "der"],
    &["van", "den"],
    &["van", "de"],
    &["von", "der"],
    &["von", "dem"],
    &["de", "la"],
    &["de", "las"],
    &["de", "los"],
    &["van"],
    &["von"],
    &["zu"],
    &["de"],
    &["del"],
    &["della"],
    &["der"],
    &["den"],
    &["ter"],
    &["ten"],
    &["te"],
    &["da"],
    &["di"],
    &["du"],
    &["des"],
    &["dos"],
    &["das"],
    &["do"],
    &["y"],
    &["e"],
    &["el"],
    &["al"],
    &["la"],
    &["le"],
    &["ben"],
    &["bin"],
    &["ibn"],
];

/// Words that are never a name, compared in lower case: function words of the
/// five languages, and what follows a salutation or "spoke to" when no name
/// does (departments, adjectives, verbs).
#[rustfmt::skip]
const NAME_STOP: &[&str] = &[
    // English
    "i", "i'm", "i've", "i'd", "i'll", "me", "my", "mine", "you", "your", "he", "him", "his",
    "she", "her", "it", "its", "we", "us", "our", "they", "them", "their", "the", "a", "an", "and",
    "or", "but", "on", "in", "at", "to", "from", "of", "for", "with", "about", "by", "was", "is",
    "are", "were", "be", "been", "has", "had", "have", "who", "that", "this", "which", "not", "no",
    "yes", "very", "so", "too", "also", "still", "there", "here", "someone", "somebody", "anyone",
    "anybody", "nobody", "everyone", "again", "today", "yesterday", "twice", "once", "wrong",
    "incorrect", "correct", "spelled", "misspelled", "missing", "just", "only", "now", "then",
    "please", "thanks", "thank", "ok", "okay", "sir", "madam", "lady", "man", "guy", "gentleman",
    "woman", "agent", "agents", "rep", "manager", "supervisor", "management", "customer",
    "customers", "service", "services", "support", "team", "billing", "sales", "technical", "tech",
    "department", "store", "shop", "chat", "phone", "telephone", "email", "mail", "line", "help",
    "helpdesk", "desk", "account", "number", "name", "hotline", "nice", "lovely", "rude",
    "helpful", "great", "friendly", "kind", "polite", "someone's", "one", "two", "several", "many",
    "various", "different", "another", "other", "same", "all", "both", "some", "any", "each",
    "your", "returns", "complaints", "retention", "cancellations", "accounts", "first", "second",
    "last",
    // German
    "ich", "du", "er", "sie", "es", "wir", "ihr", "mir", "mich", "ihm", "ihn", "ihnen", "ihres", "ihrer", "ihrem", "mein",
    "meine", "meinen", "meinem", "meiner", "dein", "sein", "seine", "ihre", "ihren", "unser",
    "der", "die", "das", "dem", "den", "des", "ein", "eine", "einen", "einem", "einer", "und",
    "oder", "aber", "am", "an", "auf", "aus", "bei", "beim", "im", "mit", "nach", "von", "vom",
    "vor", "zu", "zum", "zur", "über", "für", "war", "ist", "sind", "hat", "hatte", "haben",
    "wird", "wurde", "kann", "konnte", "sehr", "auch", "noch", "nicht", "kein", "keine", "nur",
    "schon", "dann", "da", "hier", "heute", "gestern", "leider", "bitte", "danke", "dass", "weil",
    "wie", "wer", "was", "falsch", "richtig", "jemand", "niemand", "jemandem", "kunde", "kundin",
    "kunden", "kundenservice", "kundendienst", "service", "technik", "abteilung", "telefon",
    "leitung", "firma", "doktor", "freundlich", "nett", "unfreundlich", "super", "toll", "top",
    "kollege", "kollegin", "hotline", "zentrale", "fachabteilung", "buchhaltung", "vertrieb",
    "gesagt", "gemeint", "meinte", "sagte", "versprochen", "gesprochen", "telefoniert",
    "rentner", "rentnerin", "student", "studentin", "mitglied", "neukunde", "neukundin",
    "stammkunde", "stammkundin", "bestandskunde", "bestandskundin", "privatkunde",
    "privatkundin", "vertragsinhaber", "vertragsinhaberin", "inhaber", "inhaberin",
    // Dutch
    "ik", "je", "jij", "hij", "zij", "ze", "het", "wij", "jullie", "mij", "mijn", "zijn", "haar",
    "hun", "een", "en", "maar", "aan", "op", "bij", "met", "voor", "naar", "uit", "over", "door",
    "om", "tot", "te", "heeft", "hebben", "wordt", "werd", "kon", "heel", "erg", "zeer", "zo",
    "ook", "nog", "niet", "geen", "al", "daar", "vandaag", "gisteren", "helaas", "graag", "dank",
    "bedankt", "dat", "wie", "wat", "fout", "verkeerd", "iemand", "klantenservice", "afdeling",
    "telefoon", "lijn", "vriendelijk", "aardig", "behulpzaam", "onvriendelijk", "klant",
    // French
    "j'ai", "tu", "il", "elle", "on", "nous", "vous", "ils", "elles", "m'a", "m'ont", "moi", "mon",
    "ma", "mes", "son", "sa", "ses", "le", "la", "les", "l'", "un", "une", "du", "de", "d'", "et",
    "ou", "mais", "au", "aux", "à", "dans", "par", "pour", "sur", "avec", "chez", "est", "était",
    "a", "ai", "avait", "été", "sont", "très", "trop", "bien", "pas", "ne", "n'a", "n'est", "plus",
    "aussi", "encore", "déjà", "ici", "là", "hier", "merci", "svp", "que", "qui", "quoi", "mal",
    "personne", "quelqu'un", "directeur", "directrice", "client", "cliente", "clientèle",
    "conseiller", "conseillère", "équipe", "téléphone", "ligne", "technicien", "responsable",
    "gentil", "gentille", "aimable", "sympa", "désagréable", "s'est", "c'est",
    // Spanish
    "yo", "tú", "él", "ella", "usted", "nosotros", "ellos", "ellas", "ustedes", "mi", "mis", "su",
    "sus", "el", "los", "las", "lo", "unos", "unas", "y", "o", "pero", "al", "del", "con", "sin",
    "sobre", "quien", "fue", "era", "está", "estaba", "ha", "había", "muy", "tan", "también",
    "todavía", "ya", "sí", "aquí", "hoy", "ayer", "gracias", "nadie", "alguien", "servicio",
    "atención", "soporte", "departamento", "equipo", "teléfono", "línea", "técnico", "amable",
    "simpática", "simpático", "maleducado", "maleducada", "se", "le", "les", "una", "uno", "tal",
];

// ---------------------------------------------------------------- the work

impl Redactor {
    /// Compiles the patterns (a few milliseconds).
    pub fn new() -> Self {
        // The patterns are constants; a unit test builds them, so a failure
        // here is a bug in this file, not something input can cause.
        let re = |p: &str| Regex::new(p).expect("built-in redaction pattern compiles");
        Redactor {
            email: re(EMAIL),
            iban: re(IBAN),
            card: re(CARD),
            phone: re(PHONE),
            number: re(NUMBER),
            name_anchor: re(NAME_ANCHOR),
            salutation: re(SALUTATION),
        }
    }

    /// Masks the personal data in `text`.
    pub fn redact(&self, text: &str) -> Redacted {
        let spans = self.find(text);
        let mut out = String::with_capacity(text.len());
        let mut at = 0;
        for s in &spans {
            out.push_str(&text[at..s.range.start]);
            out.push_str(s.kind.mask());
            at = s.range.end;
        }
        out.push_str(&text[at..]);
        Redacted { text: out, spans }
    }

    /// The part `part` (a byte range) of `text`, masked as it is in the
    /// whole text: personal data is found in all of `text`, so a part that
    /// cuts an address or a name in two still shows none of it.
    pub fn redact_part(&self, text: &str, part: Range<usize>) -> String {
        let mut out = String::with_capacity(part.len());
        let mut at = part.start;
        for s in self.find(text) {
            if s.range.end <= part.start || s.range.start >= part.end {
                continue;
            }
            out.push_str(&text[at..s.range.start.max(at)]);
            out.push_str(s.kind.mask());
            at = s.range.end.min(part.end);
        }
        out.push_str(&text[at..part.end]);
        out
    }

    /// The spans [`Redactor::redact`] would mask, by position, not
    /// overlapping (on overlap, e-mail beats IBAN beats card beats customer
    /// number beats phone beats name).
    pub fn find(&self, text: &str) -> Vec<PiiSpan> {
        let mut candidates: Vec<PiiSpan> = Vec::new();
        self.find_emails(text, &mut candidates);
        self.find_ibans(text, &mut candidates);
        self.find_cards(text, &mut candidates);
        self.find_numbers(text, &mut candidates);
        self.find_phones(text, &mut candidates);
        self.find_names(text, &mut candidates);
        // Stable sort: within a kind, candidates stay in text order.
        candidates.sort_by_key(|s| s.kind.priority());
        let mut taken: BTreeMap<usize, PiiSpan> = BTreeMap::new();
        for c in candidates {
            if c.range.is_empty() {
                continue;
            }
            let overlaps = taken
                .range(..c.range.end)
                .next_back()
                .is_some_and(|(_, t)| t.range.end > c.range.start);
            if !overlaps {
                taken.insert(c.range.start, c);
            }
        }
        taken.into_values().collect()
    }

    fn find_emails(&self, text: &str, out: &mut Vec<PiiSpan>) {
        for m in self.email.find_iter(text) {
            out.push(PiiSpan {
                range: m.range(),
                kind: PiiKind::Email,
            });
        }
    }

    fn find_ibans(&self, text: &str, out: &mut Vec<PiiSpan>) {
        let mut at = 0;
        while let Some(m) = self.iban.find_at(text, at) {
            if let Some(end) = iban_end(text, m.start(), m.end()) {
                out.push(PiiSpan {
                    range: m.start()..end,
                    kind: PiiKind::Iban,
                });
                at = end;
            } else {
                // The match starts with an ASCII letter: +1 is a boundary.
                at = m.start() + 1;
            }
        }
    }

    fn find_cards(&self, text: &str, out: &mut Vec<PiiSpan>) {
        let mut at = 0;
        while let Some(m) = self.card.find_at(text, at) {
            let groups = digit_groups(&text[m.range()], m.start());
            match card_prefix(text, &groups) {
                Some(end) => {
                    out.push(PiiSpan {
                        range: m.start()..end,
                        kind: PiiKind::Card,
                    });
                    at = end;
                }
                // Retry from the next group: "Bestellung 12 4526 0181 …".
                None => at = groups.get(1).map_or(m.end(), |g| g.range.start),
            }
        }
    }

    fn find_numbers(&self, text: &str, out: &mut Vec<PiiSpan>) {
        for c in self.number.captures_iter(text) {
            if let Some(range) = number_value(text, &c) {
                out.push(PiiSpan {
                    range,
                    kind: PiiKind::CustomerNumber,
                });
            }
        }
    }

    fn find_phones(&self, text: &str, out: &mut Vec<PiiSpan>) {
        let mut at = 0;
        while let Some(m) = self.phone.find_at(text, at) {
            match phone_in(text, m.range()) {
                PhoneCheck::Found(range) => {
                    at = range.end.max(m.start() + 1);
                    out.push(PiiSpan {
                        range,
                        kind: PiiKind::Phone,
                    });
                }
                PhoneCheck::RetryAt(p) if p > m.start() => at = p,
                _ => at = m.end(),
            }
        }
    }

    fn find_names(&self, text: &str, out: &mut Vec<PiiSpan>) {
        for c in self.name_anchor.captures_iter(text) {
            let Some(whole) = c.get(0) else { continue };
            let anchor = if c.name("sal").is_some() {
                Anchor::Salutation
            } else if c.name("abbr").is_some() {
                Anchor::Abbreviation
            } else if c.name("intro").is_some() {
                Anchor::Intro
            } else if c.name("iam").is_some() {
                Anchor::IAm
            } else if c.name("label").is_some() {
                Anchor::Label
            } else if c.name("talk").is_some() {
                Anchor::Talk
            } else {
                Anchor::Role
            };
            if let Some(range) = self.name_after(text, whole.end(), anchor) {
                out.push(PiiSpan {
                    range,
                    kind: PiiKind::Name,
                });
            }
        }
    }

    /// The name that starts after an anchor ending at byte `at`.
    fn name_after(&self, text: &str, at: usize, anchor: Anchor) -> Option<Range<usize>> {
        // "The advisor, Hannah, was…": a role word may take a comma.
        let at = if anchor == Anchor::Role && text[at..].starts_with(", ") {
            at + 1
        } else {
            at
        };
        let rest = &text[at..];
        // An anchor word is followed by a space; "Mr.Smith" and "Tel.:" aside.
        let gap = rest.len() - rest.trim_start_matches([' ', '\t', '\u{a0}']).len();
        let ends_with_dot = text[..at].ends_with('.');
        if gap == 0 && !ends_with_dot {
            return None;
        }
        let mut p = at + gap;
        if anchor == Anchor::Intro && text[p..].starts_with(':') {
            p += 1;
            p += text[p..].len() - text[p..].trim_start_matches(' ').len();
        }
        match anchor {
            // "Mitarbeiterin Frau Kaya", "spoke to Mr Lee": the salutation
            // is an anchor of its own and takes the name.
            Anchor::Role | Anchor::Talk | Anchor::IAm | Anchor::Label
                if self.salutation.is_match(&text[p..]) =>
            {
                return None
            }
            Anchor::Salutation | Anchor::Abbreviation => {
                // Titles after a salutation: "Frau Dr. Papadopoulos".
                for _ in 0..2 {
                    let Some(w) = word_at(text, p) else { break };
                    let lw = w.text.to_lowercase();
                    if matches!(lw.as_str(), "dr" | "prof" | "med" | "ing" | "dipl")
                        && text[w.range.end..].starts_with('.')
                    {
                        p = skip_spaces(text, w.range.end + 1);
                    } else {
                        break;
                    }
                }
            }
            _ => {}
        }
        parse_name(text, p, anchor)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Anchor {
    /// Herr, meneer, Monsieur, señora: lower-case surnames allowed.
    Salutation,
    /// Frau, Mr, Mme, Sra., Dr.: capitalised names only.
    Abbreviation,
    /// "my name is": up to two lower-case words.
    Intro,
    /// "ich bin", "ik ben": two capitalised words at least ("Ich bin
    /// Rentner" is no name).
    IAm,
    /// "name:", "Naam:": capitalised names, also "Müller, Anna".
    Label,
    /// "spoke to": one lower-case word.
    Talk,
    /// "agent", "Mitarbeiterin": capitalised names only.
    Role,
}

/// A word: letters, with inner apostrophes and hyphens (O'Brien,
/// Müller-Lüdenscheidt). At most 40 characters, so a parse is bounded.
struct Word<'a> {
    range: Range<usize>,
    text: &'a str,
}

const MAX_WORD_CHARS: usize = 40;

fn word_at(text: &str, at: usize) -> Option<Word<'_>> {
    let rest = &text[at..];
    let mut chars = rest.char_indices().peekable();
    let mut end = 0;
    let mut n = 0;
    while let Some((i, ch)) = chars.next() {
        if ch.is_alphabetic() {
            end = i + ch.len_utf8();
            n += 1;
        } else if matches!(ch, '\'' | '’' | '-') && n > 0 {
            // Inner only: a letter must follow.
            match chars.peek() {
                Some(&(_, next)) if next.is_alphabetic() => {}
                _ => break,
            }
        } else {
            break;
        }
        if n > MAX_WORD_CHARS {
            return None;
        }
    }
    if n == 0 {
        return None;
    }
    // A word glued to digits ("abc123") is a code, not a word.
    if rest[end..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some(Word {
        range: at..at + end,
        text: &rest[..end],
    })
}

fn skip_spaces(text: &str, at: usize) -> usize {
    let rest = &text[at..];
    at + (rest.len() - rest.trim_start_matches([' ', '\t', '\u{a0}']).len())
}

fn is_stop(word: &str) -> bool {
    let lw = word.to_lowercase();
    NAME_STOP.contains(&lw.as_str())
}

fn is_capitalised(word: &str) -> bool {
    word.chars().next().is_some_and(char::is_uppercase)
}

/// Particles from `list` starting at `at` and followed by a space: the end
/// of the last particle.
fn particles_at(text: &str, at: usize, list: &[&[&str]]) -> Option<usize> {
    'seq: for seq in list {
        let mut p = at;
        let mut end = at;
        for (i, part) in seq.iter().enumerate() {
            if i > 0 {
                let q = skip_spaces(text, p);
                if q == p {
                    continue 'seq;
                }
                p = q;
            }
            // "'t" (van 't Hof) is no word by word_at's rules.
            if part.starts_with('\'') {
                if !text[p..].starts_with(part) {
                    continue 'seq;
                }
                p += part.len();
                end = p;
                continue;
            }
            let Some(w) = word_at(text, p) else {
                continue 'seq;
            };
            if !w.text.eq_ignore_ascii_case(part) {
                continue 'seq;
            }
            p = w.range.end;
            end = p;
        }
        if skip_spaces(text, end) > end {
            return Some(end);
        }
    }
    None
}

/// Initial particles at `at`; `le`, `la`, `el`, `al` and `de la`, `de los`
/// only when capitalised ("Le Guen", "Sr. De la Cruz"), since "Monsieur le
/// Maire" and "El Señor de los Anillos" are no names.
fn initial_particles_at(text: &str, at: usize) -> Option<usize> {
    let end = particles_at(text, at, INITIAL_PARTICLES)?;
    let w = &text[at..end];
    if matches!(w, "le" | "la" | "el" | "al") || (w.starts_with("de") && w.contains(' ')) {
        return None;
    }
    Some(end)
}

fn is_particle(word: &str) -> bool {
    let lw = word.to_lowercase();
    MIDDLE_PARTICLES
        .iter()
        .chain(INITIAL_PARTICLES)
        .any(|seq| seq.len() == 1 && seq[0] == lw)
}

/// Up to four name words from `at`; see the module doc for the rules.
fn parse_name(text: &str, at: usize, anchor: Anchor) -> Option<Range<usize>> {
    let first = word_at(text, at)?;
    // "de Vries" is capitalised: the mode is that of the word after any
    // initial particles.
    let capitalised = is_capitalised(first.text)
        || initial_particles_at(text, at)
            .and_then(|pe| word_at(text, skip_spaces(text, pe)))
            .is_some_and(|w| is_capitalised(w.text));
    let max_words = if capitalised {
        4
    } else {
        match anchor {
            Anchor::Intro => 2,
            Anchor::Salutation | Anchor::Talk => 1,
            Anchor::Abbreviation | Anchor::Role | Anchor::IAm | Anchor::Label => return None,
        }
    };
    let name_word = |w: &Word| -> bool {
        !is_stop(w.text)
            // "mevrouw van de winkel": a lower-case particle is no name.
            && (capitalised || !is_particle(w.text))
            && w.text.chars().count() >= 2
            && (if capitalised {
                is_capitalised(w.text)
            } else {
                w.text.chars().all(char::is_lowercase)
            })
    };
    let mut words = 0;
    let mut end = at;
    let mut p = at;
    loop {
        if words >= max_words {
            break;
        }
        if words > 0 {
            let q = skip_spaces(text, p);
            if q == p {
                break;
            }
            p = q;
        }
        // Particles then a name word: "de Vries", "Van der Berg".
        let particles = if words == 0 {
            if capitalised {
                initial_particles_at(text, p)
            } else {
                None
            }
        } else {
            particles_at(text, p, MIDDLE_PARTICLES)
        };
        if let Some(pe) = particles {
            let q = skip_spaces(text, pe);
            if let Some(w) =
                word_at(text, q).filter(|w| name_word(w) && is_capitalised(w.text) == capitalised)
            {
                words += 1;
                end = w.range.end;
                p = end;
                continue;
            }
        }
        // An initial: "J. Peter Miller" (capitalised names only).
        let initial = |w: &Word| {
            capitalised
                && w.text.chars().count() == 1
                && is_capitalised(w.text)
                && text[w.range.end..].starts_with('.')
        };
        match word_at(text, p) {
            Some(w) if name_word(&w) || initial(&w) => {
                words += 1;
                end = w.range.end;
                p = end;
                // An initial: "J. Smith".
                if capitalised && w.text.chars().count() == 1 && text[p..].starts_with('.') {
                    end += 1;
                    p = end;
                }
            }
            _ => break,
        }
    }
    let min_words = if anchor == Anchor::IAm { 2 } else { 1 };
    if words < min_words {
        return None;
    }
    // "Name: Müller, Anna": a label may give the surname first.
    if anchor == Anchor::Label && capitalised && text[end..].starts_with(',') {
        let q = skip_spaces(text, end + 1);
        if q > end + 1 {
            if let Some(r) = parse_name(text, q, Anchor::Abbreviation) {
                return Some(at..r.end);
            }
        }
    }
    Some(at..end)
}

// ---------------------------------------------------------------- IBAN

/// Length of the IBAN of each country (ISO 13616 registry).
#[rustfmt::skip]
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24), ("AE", 23), ("AL", 28), ("AT", 20), ("AZ", 28), ("BA", 20), ("BE", 16), ("BG", 22),
    ("BH", 22), ("BR", 29), ("BY", 28), ("CH", 21), ("CR", 22), ("CY", 28), ("CZ", 24), ("DE", 22),
    ("DK", 18), ("DO", 28), ("EE", 20), ("EG", 29), ("ES", 24), ("FI", 18), ("FO", 18), ("FR", 27),
    ("GB", 22), ("GE", 22), ("GI", 23), ("GL", 18), ("GR", 27), ("GT", 28), ("HR", 21), ("HU", 28),
    ("IE", 22), ("IL", 23), ("IQ", 23), ("IS", 26), ("IT", 27), ("JO", 30), ("KW", 30), ("KZ", 20),
    ("LB", 28), ("LC", 32), ("LI", 21), ("LT", 20), ("LU", 20), ("LV", 21), ("MC", 27), ("MD", 24),
    ("ME", 22), ("MK", 19), ("MR", 27), ("MT", 31), ("MU", 30), ("NL", 18), ("NO", 15), ("PK", 24),
    ("PL", 28), ("PS", 29), ("PT", 25), ("QA", 29), ("RO", 24), ("RS", 22), ("SA", 24), ("SC", 31),
    ("SE", 24), ("SI", 19), ("SK", 24), ("SM", 27), ("ST", 25), ("SV", 28), ("TL", 23), ("TN", 24),
    ("TR", 26), ("UA", 29), ("VA", 22), ("VG", 24), ("XK", 20),
];

/// End of a valid IBAN starting at `start` (candidate up to `end`), if any.
fn iban_end(text: &str, start: usize, end: usize) -> Option<usize> {
    if text[..start]
        .chars()
        .next_back()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    let cand = &text[start..end];
    let country = cand[..2].to_ascii_uppercase();
    let len = IBAN_LENGTHS.iter().find(|(c, _)| *c == country)?.1;
    let mut chars = String::with_capacity(len);
    let mut stop = None;
    for (i, b) in cand.bytes().enumerate() {
        if b.is_ascii_alphanumeric() {
            chars.push(b.to_ascii_uppercase() as char);
            if chars.len() == len {
                stop = Some(start + i + 1);
                break;
            }
        }
    }
    let stop = stop?;
    if text[stop..]
        .chars()
        .next()
        .is_some_and(char::is_alphanumeric)
    {
        return None;
    }
    if chars.bytes().filter(u8::is_ascii_digit).count() < 8 {
        return None;
    }
    iban_checksum_ok(&chars).then_some(stop)
}

/// ISO 13616: move the first four characters to the end, letters to 10..35,
/// the number mod 97 must be 1.
pub(crate) fn iban_checksum_ok(iban: &str) -> bool {
    if iban.len() < 5 || !iban.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (head, tail) = iban.split_at(4);
    let mut rem: u32 = 0;
    for b in tail.bytes().chain(head.bytes()) {
        let v = match b {
            b'0'..=b'9' => u32::from(b - b'0'),
            b'A'..=b'Z' => u32::from(b - b'A') + 10,
            b'a'..=b'z' => u32::from(b - b'a') + 10,
            _ => return false,
        };
        rem = if v >= 10 {
            (rem * 100 + v) % 97
        } else {
            (rem * 10 + v) % 97
        };
    }
    rem == 1
}

// ---------------------------------------------------------------- digits

/// A run of digits in a candidate, with the separator text before it.
struct Group<'a> {
    /// Byte range in the whole text.
    range: Range<usize>,
    digits: &'a str,
    /// What stood between the previous group and this one ("" for the first).
    sep: &'a str,
}

/// Digit runs of `cand` (which starts at byte `offset` of the text).
fn digit_groups(cand: &str, offset: usize) -> Vec<Group<'_>> {
    let b = cand.as_bytes();
    let mut groups = Vec::new();
    let mut i = 0;
    let mut sep_start = 0;
    while i < b.len() {
        if b[i].is_ascii_digit() {
            let s = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            // The bracketed trunk zero of "+49 (0)30 …" is a separator; at
            // the start ("(0)171 …") it is the number's trunk zero.
            if &cand[s..i] == "0" && s > 1 && b[s - 1] == b'(' && b.get(i) == Some(&b')') {
                continue;
            }
            groups.push(Group {
                range: offset + s..offset + i,
                digits: &cand[s..i],
                sep: &cand[sep_start..s],
            });
            sep_start = i;
        } else {
            i += 1;
        }
    }
    groups
}

fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

/// Issuer prefixes and lengths of the card schemes.
fn card_issuer_ok(d: &str) -> bool {
    let n = d.len();
    let p = |k: usize| d[..k].parse::<u32>().unwrap_or(0);
    match d.as_bytes()[0] {
        b'4' => matches!(n, 13 | 16 | 19),
        b'5' => {
            (51..=55).contains(&p(2)) && n == 16
                || matches!(p(4), 5018 | 5020 | 5038 | 5893) && n >= 13
        }
        b'2' => (2221..=2720).contains(&p(4)) && n == 16,
        b'3' => {
            matches!(p(2), 34 | 37) && n == 15
                || (p(2) == 36 || (300..=305).contains(&p(3))) && n == 14
                || matches!(p(2), 38 | 39) && n >= 14
                || (3528..=3589).contains(&p(4)) && n >= 16
        }
        b'6' => {
            (p(4) == 6011 || p(2) == 65 || (644..=649).contains(&p(3)) || p(2) == 62) && n >= 16
                || matches!(p(4), 6304 | 6759 | 6761 | 6762 | 6763) && n >= 13
        }
        _ => false,
    }
}

/// Plausible card grouping: one run, or groups of four (the last shorter),
/// or Amex / Diners 4-6-5 / 4-6-4, all with one separator (space, dash or
/// dot).
fn card_grouping_ok(groups: &[Group]) -> bool {
    if groups.len() == 1 {
        return true;
    }
    let sep = groups[1].sep;
    if !groups[1..].iter().all(|g| g.sep == sep) || !matches!(sep, " " | "-" | ".") {
        return false;
    }
    let lens: Vec<usize> = groups.iter().map(|g| g.digits.len()).collect();
    if lens == [4, 6, 5] || lens == [4, 6, 4] {
        return true;
    }
    let (last, head) = lens.split_last().unwrap_or((&0, &[]));
    head.iter().all(|&l| l == 4) && (1..=4).contains(last)
}

/// End of the longest card number made of the leading groups, if any.
fn card_prefix(text: &str, groups: &[Group]) -> Option<usize> {
    let first = groups.first()?;
    if !number_boundary_before(text, first.range.start) {
        return None;
    }
    for k in (1..=groups.len()).rev() {
        let g = &groups[..k];
        let end = g[k - 1].range.end;
        let digits: String = g.iter().map(|g| g.digits).collect();
        if (13..=19).contains(&digits.len())
            && number_boundary_after(text, end)
            && card_grouping_ok(g)
            && card_issuer_ok(&digits)
            && luhn_ok(&digits)
        {
            return Some(end);
        }
    }
    None
}

/// No digit, letter or decimal number right before `at` ("€ 1.234", "v2").
fn number_boundary_before(text: &str, at: usize) -> bool {
    let before = &text[..at];
    let mut rev = before.chars().rev();
    match rev.next() {
        None => true,
        Some(c) if c.is_alphanumeric() => false,
        Some('.' | ',') => !rev.next().is_some_and(|c| c.is_ascii_digit()),
        Some(_) => true,
    }
}

/// No digit, letter or decimal part right after `at`.
fn number_boundary_after(text: &str, at: usize) -> bool {
    let mut it = text[at..].chars();
    match it.next() {
        None => true,
        Some(c) if c.is_alphanumeric() => false,
        Some('.' | ',' | ':') => !it.next().is_some_and(|c| c.is_ascii_digit()),
        Some('%') => false,
        Some(_) => true,
    }
}

// ---------------------------------------------------------------- phone

enum PhoneCheck {
    Found(Range<usize>),
    RetryAt(usize),
    No,
}

/// Units and currencies that make a number an amount or a duration.
#[rustfmt::skip]
const UNITS: &[&str] = &[
    "€", "$", "£", "%", "eur", "euro", "euros", "usd", "gbp", "chf", "dollar", "dollars", "pounds",
    "uhr", "h", "min", "mins", "minutes", "minuten", "minuut", "minuten", "minutos", "sek", "sec",
    "seconds", "stunden", "std", "hours", "heures", "horas", "uur", "tage", "days", "jours",
    "días", "dagen", "kg", "g", "km", "m", "l", "gb", "mb", "mbit", "kb", "stück", "stk", "units",
    "unidades", "unités", "stuks", "x", "punkte", "points", "puntos", "punten", "jahre", "years",
    "ans", "años", "jaar",
];

fn unit_follows(text: &str, at: usize) -> bool {
    let rest = text[at..].trim_start_matches([' ', '\u{a0}']);
    let word: String = rest
        .chars()
        .take_while(|c| c.is_alphabetic() || matches!(c, '€' | '$' | '£' | '%'))
        .take(12)
        .collect::<String>()
        .to_lowercase();
    if rest.starts_with(['€', '$', '£', '%']) {
        return true;
    }
    UNITS.contains(&word.as_str())
}

fn currency_before(text: &str, at: usize) -> bool {
    // Only the few characters before: the whole prefix would make the scan
    // quadratic.
    let tail: String = text[..at]
        .chars()
        .rev()
        .take(5)
        .collect::<Vec<char>>()
        .into_iter()
        .rev()
        .collect::<String>()
        .to_lowercase();
    let tail = tail.trim_end_matches([' ', '\u{a0}']);
    tail.ends_with(['€', '$', '£']) || tail.ends_with("eur") || tail.ends_with("chf")
}

fn is_date_start(groups: &[Group]) -> bool {
    if groups.len() < 3 {
        return false;
    }
    let (a, b, c) = (&groups[0], &groups[1], &groups[2]);
    let sep = b.sep;
    matches!(sep, "." | "/" | "-")
        && c.sep == sep
        && (1..=2).contains(&a.digits.len())
        && (1..=2).contains(&b.digits.len())
        && matches!(c.digits.len(), 2 | 4)
        && groups.get(3).is_none_or(|d| d.sep != sep)
}

/// Whether the leading `groups` (text from `start`) form a phone number.
fn phone_shape_ok(text: &str, start: usize, groups: &[Group]) -> bool {
    let digits: String = groups.iter().map(|g| g.digits).collect();
    let n = digits.len();
    let lens: Vec<usize> = groups.iter().map(|g| g.digits.len()).collect();
    let plus = text[start..].starts_with('+') || text[start..].starts_with("(+");
    if plus || digits.starts_with("00") {
        let after_cc = if plus { n } else { n - 2 };
        if digits.starts_with("000") || !(9..=15).contains(&after_cc) {
            return false;
        }
        // "+49 030…": no trunk 0 after a separate country code group.
        if groups.len() > 1 && groups[1].digits.starts_with('0') && !groups[1].sep.contains("(0)") {
            return false;
        }
        return true;
    }
    // Below: national forms, whose groups have two digits or more.
    if lens[1..].iter().any(|&l| l < 2) {
        return false;
    }
    if digits.starts_with('0') {
        return (9..=12).contains(&n) && !digits.starts_with("00");
    }
    let seps: Vec<&str> = groups[1..].iter().map(|g| g.sep).collect();
    let one_sep = seps.windows(2).all(|w| w[0] == w[1]);
    // North American with its country code: 1-800-555-0199, 1.800.555.0199.
    if n == 11
        && lens == [1, 3, 3, 4]
        && digits.starts_with('1')
        && matches!(digits.as_bytes()[1], b'2'..=b'9')
        && one_sep
        && matches!(seps[0], "-" | "." | " ")
    {
        return true;
    }
    // Spanish: 612 345 678, 91 123 45 67, 622-11-22-33, 699887766.
    if n == 9
        && matches!(digits.as_bytes()[0], b'6'..=b'9')
        && one_sep
        && matches!(
            lens.as_slice(),
            [9] | [3, 3, 3] | [3, 2, 2, 2] | [2, 3, 2, 2]
        )
        && seps.iter().all(|s| matches!(*s, " " | "-" | "."))
    {
        return true;
    }
    // North American: (555) 123-4567, 555-123-4567, 555.123.4567.
    if n == 10 && lens == [3, 3, 4] && matches!(digits.as_bytes()[0], b'2'..=b'9') {
        let paren = text[start..].starts_with('(') && groups[1].sep.starts_with(')');
        return paren || (one_sep && matches!(seps[0], "-" | "."));
    }
    false
}

fn phone_in(text: &str, cand: Range<usize>) -> PhoneCheck {
    let groups = digit_groups(&text[cand.clone()], cand.start);
    let Some(first) = groups.first() else {
        return PhoneCheck::No;
    };
    let retry = || {
        // Skip a leading date or a lone short number ("am 3 0171 …").
        if is_date_start(&groups) {
            groups
                .get(3)
                .map_or(PhoneCheck::No, |g| PhoneCheck::RetryAt(g.range.start))
        } else if first.digits.len() <= 2 && groups.len() > 1 && groups[1].sep == " " {
            PhoneCheck::RetryAt(groups[1].range.start)
        } else {
            PhoneCheck::No
        }
    };
    if is_date_start(&groups) {
        return retry();
    }
    let start = cand.start;
    // A glued letter, a decimal or a currency before: not a phone here.
    let before_ok = {
        let before = &text[..start];
        match before.chars().next_back() {
            None => true,
            Some(c) if c.is_alphanumeric() => false,
            Some('.' | ',') => !before[..before.len() - 1]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_digit()),
            Some('+' | '-' | '/') => false,
            Some(_) => true,
        }
    };
    if !before_ok || currency_before(text, start) {
        return PhoneCheck::No;
    }
    for k in (1..=groups.len()).rev() {
        let g = &groups[..k];
        let mut end = g[k - 1].range.end;
        // "(0)" or a closing parenthesis of the last group stays inside.
        if text[end..].starts_with(')') && text[start..end].contains('(') {
            end += 1;
        }
        if !number_boundary_after(text, end) || unit_follows(text, end) {
            continue;
        }
        if phone_shape_ok(text, start, g) {
            return PhoneCheck::Found(start..end);
        }
    }
    retry()
}

// ---------------------------------------------------------------- numbers

/// The masked part of an anchored number: the value, trimmed to what is
/// plausibly one identifier, with at least four digits.
fn number_value(text: &str, c: &Captures) -> Option<Range<usize>> {
    let v = c.name("v")?;
    // Glued to the anchor word ("contrat" + "o…"): not a value.
    if text[..v.start()]
        .chars()
        .next_back()
        .is_some_and(char::is_alphabetic)
    {
        return None;
    }
    // Space-joined parts only as digit groups after digit groups, of 3+
    // digits or as long as the previous one: "88 123 456", "44 55 66 78"
    // yes; "TK-48213 14", "40012387 24 Monate" no.
    let value = v.as_str();
    let mut end = 0;
    let mut prev: Option<&str> = None;
    for (i, part) in value.split(' ').enumerate() {
        let all_digits = part.bytes().all(|b| b.is_ascii_digit());
        if i > 0 {
            let joins = prev.is_some_and(|p| {
                all_digits && (part.len() >= 3 || (part.len() == p.len() && p.len() <= 4))
            });
            if !joins {
                break;
            }
        }
        end = if i == 0 {
            part.len()
        } else {
            end + 1 + part.len()
        };
        prev = all_digits.then_some(part);
    }
    let range = v.start()..v.start() + end;
    let value = &text[range.clone()];
    let n_digits = value.bytes().filter(u8::is_ascii_digit).count();
    if n_digits < 4 {
        return None;
    }
    // "Rechnung 2023", "invoice 12/2023", "factura 1000": not identifiers.
    if c.name("bare").is_some() {
        let marked = value
            .bytes()
            .any(|b| b.is_ascii_alphabetic() || b"-/.".contains(&b));
        if !(marked || n_digits >= 6) {
            return None;
        }
        let g = digit_groups(value, 0);
        if g.len() == 2 && g[0].digits.len() <= 2 && matches!(g[1].digits.len(), 2 | 4) {
            return None;
        }
    }
    if !number_boundary_after(text, range.end) {
        return None;
    }
    // A date is not an identifier: "Ticket vom 12.03.2024" is filtered by the
    // fillers, "Ticket 12.03.2024" here.
    let groups = digit_groups(value, range.start);
    if groups.len() == 3
        && is_date_start(&groups)
        && value
            .bytes()
            .all(|b| b.is_ascii_digit() || b".-/".contains(&b))
    {
        return None;
    }
    Some(range)
}

// ---------------------------------------------------------------- columns

/// What of a comment may leave the machine (report, follow-up table):
/// `text[part]`, masked as part of the whole text when there is a
/// redactor, as written when masking is off. The one place both outputs
/// mask through.
pub fn shown_text(redactor: Option<&Redactor>, text: &str, part: Range<usize>) -> String {
    match redactor {
        Some(r) if part == (0..text.len()) => r.redact(text).text,
        Some(r) => r.redact_part(text, part),
        None => text[part].to_string(),
    }
}

/// What a column other than the comment holds when its values are personal
/// data: such a column is no automatic segment, and its values are masked
/// wherever they are written (see [`column_kind`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PersonalColumn {
    /// Most values hold an e-mail address.
    Email,
    /// Most values hold a phone number.
    Phone,
    /// Most values hold an IBAN or a card number.
    Account,
    /// Most values read as a person's name ("Anna Müller", "Smith, John"),
    /// mostly distinct or in a column named like a name field.
    Name,
    /// Long, mostly distinct values: notes, addresses, free text.
    FreeText,
}

impl PersonalColumn {
    /// Why the column was left out, for the manifest.
    pub fn reason(self) -> &'static str {
        match self {
            PersonalColumn::Email => "values look like e-mail addresses",
            PersonalColumn::Phone => "values look like phone numbers",
            PersonalColumn::Account => "values look like IBANs or card numbers",
            PersonalColumn::Name => "values look like person names",
            PersonalColumn::FreeText => "free text: long, mostly distinct values",
        }
    }

    /// A few words for a message.
    pub fn short(self) -> &'static str {
        match self {
            PersonalColumn::Email => "e-mail addresses",
            PersonalColumn::Phone => "phone numbers",
            PersonalColumn::Account => "IBANs or card numbers",
            PersonalColumn::Name => "person names",
            PersonalColumn::FreeText => "free text",
        }
    }

    /// A value of such a column as it may be written: through the
    /// redactor, and a name column's values masked whole (a name without an
    /// anchor word is out of the redactor's reach).
    pub fn mask(self, redactor: &Redactor, value: &str) -> String {
        match self {
            PersonalColumn::Name if !value.trim().is_empty() => PiiKind::Name.mask().to_string(),
            _ => redactor.redact(value).text,
        }
    }
}

/// Header names of fields that hold a person's name, normalised (lower
/// case, letters and digits only).
const NAME_FIELDS: &[&str] = &[
    "name",
    "fullname",
    "firstname",
    "lastname",
    "surname",
    "givenname",
    "familyname",
    "customer",
    "customername",
    "clientname",
    "contact",
    "contactname",
    "respondent",
    "respondentname",
    "kunde",
    "kundin",
    "kundenname",
    "vorname",
    "nachname",
    "klant",
    "klantnaam",
    "naam",
    "voornaam",
    "achternaam",
    "nom",
    "prenom",
    "nomcomplet",
    "nombre",
    "apellido",
    "apellidos",
    "nombrecompleto",
];

/// A value that reads as a person's name: two to four name words (an
/// initial, particles between them), or "Surname, First names".
fn looks_like_name(value: &str) -> bool {
    let value = value.trim();
    if value.is_empty() || value.chars().any(|c| c.is_ascii_digit()) {
        return false;
    }
    let parts: Vec<&str> = value.splitn(2, ',').collect();
    let words: Vec<&str> = parts.iter().flat_map(|p| p.split_whitespace()).collect();
    if parts.len() == 2 && parts.iter().any(|p| p.trim().is_empty()) {
        return false;
    }
    if !(2..=5).contains(&words.len()) {
        return false;
    }
    let mut names = 0;
    for w in &words {
        let bare = w.trim_end_matches('.');
        let initial = bare.chars().count() == 1 && is_capitalised(bare);
        let name = word_at(bare, 0).is_some_and(|x| x.text.len() == bare.len())
            && is_capitalised(bare)
            && !is_stop(bare);
        if initial || name {
            names += 1;
        } else if !is_particle(bare) {
            return false;
        }
    }
    names >= 2
}

/// Whether the values of a column (a sample of its first rows) are personal
/// data, and of what kind. `name` is the column's header name; `team` says it
/// is a team or agent column, whose names are employees' and are kept.
///
/// E-mail addresses, phone numbers, IBANs and card numbers count when half
/// the non-empty values hold one; names when four in five values read as a
/// name and are mostly distinct (or half of them, in a column named like a
/// name field); free text when values are long (25 characters and four
/// words on average) and mostly distinct. "Mostly distinct" (four in five)
/// needs five values at least, so a tiny sample keeps its columns.
pub fn column_kind(
    redactor: &Redactor,
    name: &str,
    values: &[&str],
    team: bool,
) -> Option<PersonalColumn> {
    let values: Vec<&str> = values
        .iter()
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .collect();
    let n = values.len();
    if n == 0 {
        return None;
    }
    let half = |k: usize| 2 * k >= n;
    let most = |k: usize| 5 * k >= 4 * n;
    let count = |kinds: &[PiiKind]| {
        values
            .iter()
            .filter(|v| redactor.find(v).iter().any(|s| kinds.contains(&s.kind)))
            .count()
    };
    if half(count(&[PiiKind::Email])) {
        return Some(PersonalColumn::Email);
    }
    if half(count(&[PiiKind::Phone])) {
        return Some(PersonalColumn::Phone);
    }
    if half(count(&[PiiKind::Iban, PiiKind::Card])) {
        return Some(PersonalColumn::Account);
    }
    let distinct = values
        .iter()
        .collect::<std::collections::HashSet<_>>()
        .len();
    let mostly_distinct = n >= 5 && most(distinct);
    if !team {
        let names = values.iter().filter(|v| looks_like_name(v)).count();
        let key: String = name
            .chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_lowercase)
            .collect();
        let name_field = NAME_FIELDS.contains(&key.as_str());
        if (name_field && half(names)) || (mostly_distinct && most(names)) {
            return Some(PersonalColumn::Name);
        }
    }
    let chars: usize = values.iter().map(|v| v.chars().count()).sum();
    let words: usize = values.iter().map(|v| v.split_whitespace().count()).sum();
    if mostly_distinct && chars >= 25 * n && words >= 4 * n {
        return Some(PersonalColumn::FreeText);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r() -> Redactor {
        Redactor::new()
    }

    /// The texts masked as `kind` in `text`.
    fn found(text: &str, kind: PiiKind) -> Vec<String> {
        r().find(text)
            .into_iter()
            .filter(|s| s.kind == kind)
            .map(|s| text[s.range].to_string())
            .collect()
    }

    fn none_in(text: &str) {
        let spans = r().find(text);
        assert!(
            spans.is_empty(),
            "{text:?}: unexpected {:?}",
            spans
                .iter()
                .map(|s| (s.kind, &text[s.range.clone()]))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<Redactor>();
    }

    #[test]
    fn masks_and_reports_spans() {
        let text = "Frau Schmidt, Tel. 0171 1234567, mail anna@example.de";
        let out = r().redact(text);
        assert_eq!(out.text, "Frau [NAME], Tel. [PHONE], mail [EMAIL]");
        assert_eq!(out.count(PiiKind::Phone), 1);
        assert_eq!(out.count(PiiKind::Email), 1);
        assert_eq!(out.count(PiiKind::Name), 1);
        assert_eq!(out.count(PiiKind::Iban), 0);
        assert_eq!(&text[out.spans[0].range.clone()], "Schmidt");
        assert_eq!(out.counts()[0], (PiiKind::Email, 1));
        let clean = r().redact("Alles gut, 10 Punkte.");
        assert_eq!(clean.text, "Alles gut, 10 Punkte.");
        assert!(clean.spans.is_empty());
    }

    #[test]
    fn kinds_round_trip_by_name() {
        for k in PiiKind::ALL {
            assert_eq!(PiiKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(PiiKind::parse("address"), None);
    }

    #[test]
    fn emails() {
        assert_eq!(
            found("an j.mueller87@web.de!", PiiKind::Email),
            ["j.mueller87@web.de"]
        );
        assert_eq!(
            found("mail:anna-lena.schroeder+rechnung@gmx.net.", PiiKind::Email),
            ["anna-lena.schroeder+rechnung@gmx.net"]
        );
        assert_eq!(
            found("jürgen@müller.de", PiiKind::Email),
            ["jürgen@müller.de"]
        );
        none_in("Stuck @ home, modèle F@st 5670, prix @ 29,99");
    }

    #[test]
    fn ibans_need_the_checksum_and_the_country_length() {
        // Published example IBANs.
        assert_eq!(
            found("IBAN DE89 3704 0044 0532 0130 00 bitte", PiiKind::Iban),
            ["DE89 3704 0044 0532 0130 00"]
        );
        assert_eq!(
            found("op NL91ABNA0417164300.", PiiKind::Iban),
            ["NL91ABNA0417164300"]
        );
        assert_eq!(
            found("GB82 WEST 1234 5698 7654 32", PiiKind::Iban),
            ["GB82 WEST 1234 5698 7654 32"]
        );
        assert_eq!(found("iban:gb82west12345698765432", PiiKind::Iban).len(), 1);
        // One digit changed: checksum fails.
        none_in("DE89 3704 0044 0532 0130 01");
        // Right checksum, wrong length for the country (one digit more).
        assert!(found("DE89 3704 0044 0532 0130 001", PiiKind::Iban).is_empty());
        // Unknown country, glued to a word.
        none_in("Modell WM14N2G0 von 2019, xDE89370400440532013000");
        assert!(iban_checksum_ok("DE89370400440532013000"));
        assert!(!iban_checksum_ok("DE88370400440532013000"));
    }

    #[test]
    fn cards_need_luhn_an_issuer_and_a_card_grouping() {
        // Test numbers published by the card schemes.
        assert_eq!(
            found("Visa 4111 1111 1111 1111.", PiiKind::Card),
            ["4111 1111 1111 1111"]
        );
        assert_eq!(
            found("MC 5555-5555-5555-4444", PiiKind::Card),
            ["5555-5555-5555-4444"]
        );
        assert_eq!(
            found("Amex 378282246310005", PiiKind::Card),
            ["378282246310005"]
        );
        assert_eq!(
            found("Amex 3782 822463 10005", PiiKind::Card),
            ["3782 822463 10005"]
        );
        // Luhn fails (last digit changed).
        assert!(found("4111 1111 1111 1112", PiiKind::Card).is_empty());
        // Luhn holds, but an IMEI is no card (35, 15 digits).
        none_in("IMEI 356938035643809");
        // Odd grouping, part of a longer number, last four digits only.
        assert!(found("41 1111 11111 11111", PiiKind::Card).is_empty());
        assert!(found("14111111111111111", PiiKind::Card).is_empty());
        none_in("Karte endet auf 1111");
    }

    #[test]
    fn phones_in_the_five_countries() {
        for p in [
            "0171 1234567",
            "+49 30 12345678",
            "0049 176 98765432",
            "0151/23456789",
            "089 / 123 456 78",
            "+49(0)30 1234567",
            "06-12345678",
            "(020) 123 4567",
            "+31 6 87654321",
            "085 - 208 11 22",
            "07700 900123",
            "+44 20 7946 0018",
            "(555) 123-4567",
            "555-987-6543",
            "+1 415 555 0132",
            "06 12 34 56 78",
            "+33 6 12 34 56 78",
            "01.23.45.67.89",
            "612 345 678",
            "91 123 45 67",
            "622-11-22-33",
            "699887766",
            "+34 612 34 56 78",
        ] {
            let text = format!("bitte an {p}, danke");
            assert_eq!(found(&text, PiiKind::Phone), [p], "{text}");
        }
    }

    #[test]
    fn phone_look_alikes() {
        none_in("am 12.03.2024 um 14:30 Uhr, 01.03.2024 10 Minuten");
        none_in("Vom 01.03.2024 bis 15.04.2024, 0,00 €");
        none_in("1.234,50 EUR und € 29,99 und 39,90 €/Monat, 15 % mehr");
        none_in("40 Minuten, 2 Stunden, 1 299,00 €, 12.500 Euro");
        none_in("Zählerstand 012345, 10115 Berlin, 1012 AB Amsterdam, 75011 Paris");
        none_in("Update 3.2.1, iOS 17.4.1, IP 192.168.178.1, Artikel 4711-0815");
        none_in("Temps d'attente : 00:45:12, 2024-05-14 zwischen 8:00 und 12:00");
        none_in("DHL-Paket 0034 0434 1612 3456 78 ist unterwegs");
        none_in("seit 2009 Kunde, 250 Stück, 3 Artikel à 19,99 €, KW 12");
        none_in("Bestelling op 12-06-2024 14:05 geplaatst");
        none_in("612345678 €");
        // A date before a phone does not hide it.
        assert_eq!(
            found("am 01.03.2024 0171 1234567", PiiKind::Phone),
            ["0171 1234567"]
        );
    }

    #[test]
    fn customer_numbers_need_an_anchor() {
        for (text, want) in [
            ("Meine Kundennummer ist 40012387, danke", "40012387"),
            ("Kd.-Nr. 7781203 – bitte", "7781203"),
            ("kdnr:60012345", "60012345"),
            ("Vertragsnummer: V-2023-884512, Kündigung", "V-2023-884512"),
            ("Ticketnummer #TK-48213 seit 14 Tagen", "TK-48213"),
            ("klantnr.4481920 , tel", "4481920"),
            ("Polisnummer 7.123.456 heb", "7.123.456"),
            ("order #A55123.", "A55123"),
            ("The account no. 31926819 on", "31926819"),
            ("Case number 00451987 - nobody", "00451987"),
            ("Mon numéro client est le 4402118, personne", "4402118"),
            (
                "N° de contrat : 2023-FR-556712, résiliation",
                "2023-FR-556712",
            ),
            ("mon numéro d'abonné est 88 123 456", "88 123 456"),
            ("Commande n° 100045872 jamais", "100045872"),
            ("Mi número de cliente es el 30219874 y", "30219874"),
            ("Nº de pedido 4500123987 nunca", "4500123987"),
            ("mi numero de cliente 7788 1234", "7788 1234"),
            (
                "Sendungsnummer 00340434161234567890 wurde",
                "00340434161234567890",
            ),
            ("acc number 00112233 - why", "00112233"),
        ] {
            assert_eq!(found(text, PiiKind::CustomerNumber), [want], "{text}");
        }
        none_in("Artikelnummer 4711-0815, Modell WM14N2G0, Fehlercode E-302");
        none_in("Kundennummer habe ich nicht, Kunde seit 2015, contract for 24 months");
        none_in("Ticket 12.03.2024, ticket 12");
        // A bare invoice word wants an identifier, not a year, month or amount.
        assert_eq!(
            found("Factuur 2024-0456 klopt niet", PiiKind::CustomerNumber),
            ["2024-0456"]
        );
        none_in("Rechnung 2023 falsch, invoice 12/2023 wrong, factura 1000 euros");
        assert_eq!(
            found("Klantnummer 44 55 66 78 heb ik", PiiKind::CustomerNumber),
            ["44 55 66 78"]
        );
        assert_eq!(
            found("Kundennummer 40012387 24 Monate", PiiKind::CustomerNumber),
            ["40012387"]
        );
    }

    #[test]
    fn names_after_anchors() {
        for (text, want) in [
            ("Frau Schmidt von der Hotline hat", "Schmidt"),
            ("Herr Yılmaz war", "Yılmaz"),
            ("Mitarbeiterin Frau Van der Berg hat", "Van der Berg"),
            ("Danke an Herrn Dr. Öztürk, endlich", "Öztürk"),
            ("Mein Name ist Lars Ødegaard und", "Lars Ødegaard"),
            (
                "Herr Müller-Lüdenscheidt aus der Technik",
                "Müller-Lüdenscheidt",
            ),
            ("mit herrn meier gesprochen", "meier"),
            ("Mevrouw de Vries heeft", "de Vries"),
            ("mevrouw Van Dijk-de Boer, zij", "Van Dijk-de Boer"),
            ("De heer Kowalczyk heeft", "Kowalczyk"),
            ("mijn naam is sem de graaf, graag", "sem de graaf"),
            ("Mrs O'Brien was lovely", "O'Brien"),
            ("I spoke to Priya in billing", "Priya"),
            ("Mr. Van der Merwe from the tech team", "Van der Merwe"),
            (
                "Thanks to Mrs. Siobhan Ní Bhriain, the",
                "Siobhan Ní Bhriain",
            ),
            ("my name is daniel kim btw", "daniel kim"),
            ("M. Dupont m'a", "Dupont"),
            ("Madame Dubois-N'Diaye, au service", "Dubois-N'Diaye"),
            (
                "Je m'appelle Anne-Sophie de La Tour, cliente",
                "Anne-Sophie de La Tour",
            ),
            ("J'ai eu affaire à l'agent Sébastien, très pro", "Sébastien"),
            (
                "La Sra. Fernández de la Fuente me llamó",
                "Fernández de la Fuente",
            ),
            (
                "Me llamo María José Rodríguez y llevo",
                "María José Rodríguez",
            ),
            ("Hablé con la operadora Nerea, muy", "Nerea"),
            ("Sr. O'Neill, del servicio", "O'Neill"),
            ("Mevr. van 't Hof was erg behulpzaam", "van 't Hof"),
            ("Mit freundlichen Grüßen, Familie Schröder", "Schröder"),
            ("Soy Jorge Fernández, cliente desde 2012", "Jorge Fernández"),
            ("Don Ramón Pérez fue muy amable", "Ramón Pérez"),
            ("The advisor, Hannah, was amazing", "Hannah"),
            ("Spoke to someone called Jamie but", "Jamie"),
            ("J'ai parlé à Nathalie, elle a tout réglé", "Nathalie"),
            ("Hablé con una tal Marta, me dijo", "Marta"),
            ("Me atendió Ana Belén, un encanto", "Ana Belén"),
            ("El Sr. De la Cruz del servicio técnico", "De la Cruz"),
        ] {
            assert_eq!(found(text, PiiKind::Name), [want], "{text}");
        }
    }

    #[test]
    fn name_look_alikes() {
        none_in("Der Herr der Ringe kam beschädigt an.");
        none_in("Die Frau am Telefon war unfreundlich. Meine Frau und ich.");
        none_in("Mein Name ist auf der Rechnung falsch geschrieben.");
        none_in("Mevrouw aan de telefoon wist het niet. De medewerker was onbeleefd.");
        none_in("I spoke to someone in billing. Spoke to Customer Services twice.");
        none_in("My name is on the account. The agent was rude, the best agent I've had.");
        none_in("Dear Sir or Madam, I wish to complain.");
        none_in("Madame, Monsieur, je souhaite résilier. Monsieur le directeur, bonjour.");
        none_in("La conseillère était très gentille.");
        none_in("El Señor de los Anillos llegó roto. La señora que me atendió no sabía.");
        none_in("Mi nombre está mal escrito. El operador fue maleducado.");
        none_in("I called Vodafone twice, they called back. Soy cliente desde 2010.");
        none_in("Die mevrouw van de winkel wist er ook niks van.");
        // Out of scope: a first name without an anchor.
        none_in("Sarah was great, Bas was heel aardig.");
    }

    #[test]
    fn gaps_of_issue_16() {
        for (text, kind, want) in [
            (
                "Rückruf unter (0)171 1234567 bitte",
                PiiKind::Phone,
                "(0)171 1234567",
            ),
            ("call 1-800-555-0199 now", PiiKind::Phone, "1-800-555-0199"),
            ("or 1.800.555.0199.", PiiKind::Phone, "1.800.555.0199"),
            (
                "card 4111.1111.1111.1111 was charged",
                PiiKind::Card,
                "4111.1111.1111.1111",
            ),
            (
                "my name is J. Peter Miller and",
                PiiKind::Name,
                "J. Peter Miller",
            ),
            (
                "ich bin Anna Müller und warte",
                PiiKind::Name,
                "Anna Müller",
            ),
            (
                "Ik ben Jan de Vries en wacht",
                PiiKind::Name,
                "Jan de Vries",
            ),
            ("name: John Smith", PiiKind::Name, "John Smith"),
            ("Name: Müller, Anna", PiiKind::Name, "Müller, Anna"),
            (
                "Naam: de Vries, Jan. Bel mij",
                PiiKind::Name,
                "de Vries, Jan",
            ),
        ] {
            assert_eq!(found(text, kind), [want], "{text}");
        }
        assert_eq!(r().redact("Name: Müller, Anna").text, "Name: [NAME]");
    }

    #[test]
    fn look_alikes_of_the_gaps_of_issue_16() {
        none_in("ich bin enttäuscht und ich bin sehr sauer");
        none_in("Ich bin Rentner und zahle zu viel. Ich bin Kunde seit 2010.");
        none_in("Ich bin Stammkunde Ihres Unternehmens. Ik ben Ziggo klant.");
        none_in("Ik ben heel blij. Ik ben Jan.");
        none_in("name: wrong on the invoice. Name: falsch geschrieben.");
        none_in("Der Name: Customer Service hilft nie");
        none_in("Preis 1.000.000 Euro, Version 1.800.555, (0) Punkte");
        none_in("1-800 Nummern sind kostenlos, 1-2-3 fertig");
        none_in("Zählerstand 4111.1111 und 1.111.111.111");
    }

    #[test]
    fn a_part_is_masked_as_in_the_whole_text() {
        let text = "Mr. Smith was rude. Mail mustermann@example.com now";
        // Parts that cut the name's anchor or the address in two.
        assert_eq!(r().redact_part(text, 4..24), "[NAME] was rude. Mail");
        assert_eq!(r().redact_part(text, 36..51), "[EMAIL] now");
        assert_eq!(r().redact_part(text, 0..3), "Mr.");
        assert_eq!(r().redact_part(text, 0..text.len()), r().redact(text).text);
        assert_eq!(r().redact_part("no data", 3..7), "data");
    }

    #[test]
    fn columns_of_personal_data_are_told_by_their_values() {
        let kind = |name: &str, values: &[&str]| column_kind(&r(), name, values, false);
        let emails = ["a.b@example.org", "c@example.org", "", "x@y.de"];
        assert_eq!(kind("email", &emails), Some(PersonalColumn::Email));
        assert_eq!(kind("Kontakt", &emails), Some(PersonalColumn::Email));
        let phones = ["+49 171 2345601", "0171 2345602", "n/a"];
        assert_eq!(kind("tel", &phones), Some(PersonalColumn::Phone));
        let names = [
            "Anna Müller",
            "Jan de Vries",
            "Smith, John",
            "J. Peter Miller",
            "Lucía García",
        ];
        assert_eq!(kind("x", &names), Some(PersonalColumn::Name));
        // A name field needs no distinct values; a team column keeps its names.
        assert_eq!(
            kind("Name", &["D Landor", "Colin Pay"]),
            Some(PersonalColumn::Name)
        );
        assert_eq!(column_kind(&r(), "agent", &names, true), None);
        let notes = [
            "please call me after six, I am at work until then",
            "the parcel was left at the neighbour's door again",
            "wants a refund for the broken router and the fees",
            "prefers e-mail, does not answer the phone at all",
            "moved house in March, the address is still wrong",
        ];
        assert_eq!(kind("contact note", &notes), Some(PersonalColumn::FreeText));
        // Segments: few values, repeated; short codes; a small sample.
        let channels = ["phone", "chat", "phone", "e-mail", "chat", "phone"];
        assert_eq!(kind("channel", &channels), None);
        let tiers = [
            "Premium Plus",
            "Basic",
            "Premium Plus",
            "Basic",
            "Basic",
            "Gold",
        ];
        assert_eq!(kind("tier", &tiers), None);
        assert_eq!(kind("store", &["Berlin Mitte", "Hamburg Nord"]), None);
        assert_eq!(kind("region", &["", ""]), None);
        assert_eq!(
            kind("zip", &["10115", "20095", "80331", "50667", "60311"]),
            None
        );
        let long_but_repeated = ["British Airways customer review"; 6];
        assert_eq!(kind("header", &long_but_repeated), None);
    }

    #[test]
    fn a_personal_column_value_is_masked_by_its_kind() {
        let red = r();
        assert_eq!(PersonalColumn::Name.mask(&red, "Anna Müller"), "[NAME]");
        assert_eq!(PersonalColumn::Name.mask(&red, ""), "");
        assert_eq!(PersonalColumn::Email.mask(&red, "a@b.de"), "[EMAIL]");
        assert_eq!(
            PersonalColumn::FreeText.mask(&red, "call 0171 1234567, my name is Jan Smit"),
            "call [PHONE], my name is [NAME]"
        );
    }

    #[test]
    fn overlapping_kinds_resolve_by_priority() {
        // The anchor word makes it a number, not a Spanish phone.
        let text = "Nº de pedido 612345678";
        assert_eq!(found(text, PiiKind::CustomerNumber), ["612345678"]);
        assert!(found(text, PiiKind::Phone).is_empty());
        // A valid IBAN after "Kontonummer" is an IBAN.
        let text = "Kontonummer: DE89 3704 0044 0532 0130 00";
        assert_eq!(r().redact(text).text, "Kontonummer: [IBAN]");
    }

    #[test]
    fn utf8_boundaries_hold() {
        let text = "Ödön → Herr Ødegaard 📞 0171 1234567 ✉ josé@correo.es €€ Señora Núñez";
        let out = r().redact(text);
        for s in &out.spans {
            assert!(text.is_char_boundary(s.range.start) && text.is_char_boundary(s.range.end));
        }
        assert_eq!(
            out.text,
            "Ödön → Herr [NAME] 📞 [PHONE] ✉ [EMAIL] €€ Señora [NAME]"
        );
        // Multi-byte characters glued to candidates never panic.
        for t in [
            "ü0171 1234567ü",
            "éDE89370400440532013000é",
            "Herrn",
            "Herr ",
            "Mr.",
            "ñ@ñ.ññ",
        ] {
            let _ = r().redact(t);
        }
    }

    /// Adversarial inputs of 1 MB and 10 MB: time must grow about tenfold.
    #[test]
    fn linear_time_on_large_adversarial_comments() {
        let unit = "Herr Herr Mr. Van der de la 0 0 0171 0 1.2.3 DE89 3704 a@b@c. Kundennummer 1 \
                    4111 1111 1111 1112 +49 ((0 Frau de Señor de los ";
        let make = |bytes: usize| unit.repeat(bytes / unit.len() + 1);
        let redactor = r();
        let time = |s: &str| {
            let t = std::time::Instant::now();
            let out = redactor.redact(s);
            (t.elapsed(), out.spans.len())
        };
        let small = make(1 << 20);
        let big = make(10 << 20);
        let _ = time(&small); // warm the regex caches
        let (t1, n1) = time(&small);
        let (t10, n10) = time(&big);
        assert!(n10 >= 9 * n1, "spans {n1} vs {n10}");
        // Quadratic behaviour would be ~100x; allow generous noise.
        assert!(
            t10 <= t1 * 30 + std::time::Duration::from_secs(2),
            "1 MB {t1:?}, 10 MB {t10:?}"
        );
    }
}
