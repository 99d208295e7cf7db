//! What the subcommands share: opening slabs and databases with clear errors, EDN text
//! for bytes, values and datoms, view flags, input from arguments or stdin, progress bars.

use clojure_reader::edn::Edn;
use eve::dao::{edn_string, Database, Datom, Schema, Value, View};
use eve::{OpenOptions, RootKind, Slab};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{BufWriter, IsTerminal, Read, StdoutLock, Write};
use std::path::Path;

/// Why a command did not succeed. `main` maps every failure to exit code 1.
#[derive(Debug)]
pub enum Failure {
    /// Printed by `main` as `eve: <message>`.
    Message(String),
    /// The command already explained the problem (e.g. `check`'s report).
    Reported,
    /// Whoever read stdout went away; not worth a message.
    BrokenPipe,
}

pub type Outcome = Result<(), Failure>;

pub fn fail(message: impl Into<String>) -> Failure {
    Failure::Message(message.into())
}

impl From<eve::Error> for Failure {
    fn from(e: eve::Error) -> Failure {
        Failure::Message(e.message().to_string())
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            Failure::BrokenPipe
        } else {
            Failure::Message(format!("writing output: {e}"))
        }
    }
}

/// Buffered standard output; write errors become `Failure`s through `?`.
pub fn stdout() -> BufWriter<StdoutLock<'static>> {
    BufWriter::new(std::io::stdout().lock())
}

fn must_exist(path: &Path) -> Outcome {
    match std::fs::metadata(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(fail(format!("{}: no such file", path.display())))
        }
        Err(e) => Err(fail(format!("{}: {e}", path.display()))),
    }
}

/// Opens an existing slab without write permission: nothing in the file changes, and no
/// recovery sweep runs even if the slab was not closed cleanly.
pub fn open_read_only(path: &Path) -> Result<Slab, Failure> {
    must_exist(path)?;
    let options = OpenOptions {
        read_only: true,
        create: false,
        ..OpenOptions::default()
    };
    Ok(Slab::open_with(path, &options)?)
}

/// Opens a slab for writing, creating the file if `create` and it is missing.
pub fn open_writable(path: &Path, create: bool) -> Result<Slab, Failure> {
    if !create {
        must_exist(path)?;
    }
    let options = OpenOptions {
        read_only: false,
        create,
        ..OpenOptions::default()
    };
    Ok(Slab::open_with(path, &options)?)
}

/// The database `name` of `slab`; a missing one is an error naming the databases there are
/// (unless `create`, on a writable slab, which creates it).
pub fn database<'s>(
    slab: &'s Slab,
    path: &Path,
    name: &str,
    create: bool,
) -> Result<Database<'s>, Failure> {
    let roots = slab.roots()?;
    match roots.iter().find(|r| r.name == name) {
        Some(root) if root.kind != RootKind::Dao => Err(fail(format!(
            "{}: root {name:?} is a {}, not a database",
            path.display(),
            kind_name(root.kind)
        ))),
        Some(_) => Ok(slab.database(name)?),
        None if create => Ok(slab.database(name)?),
        None => {
            let names: Vec<String> = roots
                .iter()
                .filter(|r| r.kind == RootKind::Dao)
                .map(|r| format!("{:?}", r.name))
                .collect();
            Err(fail(format!(
                "{}: no database named {name:?} ({})",
                path.display(),
                if names.is_empty() {
                    "the slab has no databases".to_string()
                } else {
                    format!("databases: {}", names.join(", "))
                }
            )))
        }
    }
}

/// The name `dump` and `stat` give a root kind (also its EDN keyword).
pub fn kind_name(kind: RootKind) -> &'static str {
    match kind {
        RootKind::Raw => "raw",
        RootKind::HamtMap => "map",
        RootKind::HamtSet => "set",
        RootKind::BTree => "btree",
        RootKind::Dao => "database",
    }
}

/// Bytes as EDN: a string when they are valid UTF-8, else `#eve/bytes "hex"`.
pub fn bytes_edn(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => edn_string(text),
        Err(_) => Value::Bytes(bytes.to_vec()).to_edn(),
    }
}

/// `--as-of`, `--since` and `--history`, shared by `query` and `datoms`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ViewArgs {
    /// Read the database as it was after transaction T
    #[arg(long, value_name = "T", conflicts_with_all = ["since", "history"])]
    pub as_of: Option<u64>,
    /// Only datoms true now that were asserted after transaction T
    #[arg(long, value_name = "T", conflicts_with = "history")]
    pub since: Option<u64>,
    /// Every assertion and retraction ever made (the history view)
    #[arg(long)]
    pub history: bool,
}

impl ViewArgs {
    pub fn view(&self) -> View {
        match (self.as_of, self.since, self.history) {
            (Some(t), _, _) => View::AsOf(t),
            (_, Some(t), _) => View::Since(t),
            (_, _, true) => View::History,
            _ => View::Current,
        }
    }

    pub fn is_current(&self) -> bool {
        self.view() == View::Current
    }
}

/// The text of an argument, or of stdin when it is `-` or absent.
pub fn text_or_stdin(arg: Option<&str>, what: &str) -> Result<String, Failure> {
    match arg {
        Some(text) if text != "-" => Ok(text.to_string()),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| fail(format!("reading the {what} from stdin: {e}")))?;
            Ok(text)
        }
    }
}

/// A progress bar on stderr counting `total` items, hidden when stderr is not a terminal
/// or `quiet`.
pub fn progress(total: u64, quiet: bool, message: &str) -> ProgressBar {
    bar(
        total,
        quiet,
        message,
        "{msg} [{bar:40}] {human_pos}/{human_len} {per_sec} eta {eta}",
    )
}

/// [`progress`] counting bytes of input.
pub fn progress_bytes(total: u64, quiet: bool, message: &str) -> ProgressBar {
    bar(
        total,
        quiet,
        message,
        "{msg} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
}

fn bar(total: u64, quiet: bool, message: &str, template: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(template) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_message(message.to_string());
    bar
}

/// An attribute as EDN: its ident keyword, or its id if it has none.
pub fn attribute_edn(schema: &Schema, a: u64) -> String {
    schema.attribute_by_id(a).map_or_else(
        || a.to_string(),
        |attribute| format!(":{}", attribute.ident),
    )
}

/// A datom as `[e :attribute value t added]`.
pub fn datom_edn(schema: &Schema, d: &Datom) -> String {
    format!(
        "[{} {} {} {} {}]",
        d.e,
        attribute_edn(schema, d.a),
        d.v.to_edn(),
        d.t,
        d.m != eve::dao::RETRACTED
    )
}

/// EDN text of a form read by clojure-reader, written so that eve's reader reads the same
/// value back (doubles keep their decimal point, strings their escapes).
pub fn edn_text(edn: &Edn<'_>) -> String {
    let items = |items: &mut dyn Iterator<Item = &Edn<'_>>| {
        items.map(edn_text).collect::<Vec<_>>().join(" ")
    };
    match edn {
        Edn::Vector(v) => format!("[{}]", items(&mut v.iter())),
        Edn::List(v) => format!("({})", items(&mut v.iter())),
        Edn::Set(s) => format!("#{{{}}}", items(&mut s.iter())),
        Edn::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|(k, v)| format!("{} {}", edn_text(k), edn_text(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Edn::Str(s) => edn_string(s),
        Edn::Double(d) => Value::Double(d.into_inner()).to_edn(),
        Edn::Tagged(tag, inner) => format!("#{tag} {}", edn_text(inner)),
        other => other.to_string(),
    }
}

/// Skips whitespace, commas and `;` comments.
pub fn skip_blank(mut text: &str) -> &str {
    loop {
        text = text.trim_start_matches(|c: char| c.is_whitespace() || c == ',');
        match text.strip_prefix(';') {
            Some(comment) => text = comment.find('\n').map_or("", |n| &comment[n + 1..]),
            None => return text,
        }
    }
}

/// 1-based line of byte offset `at` in `text`.
pub fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Writes `text` and a newline.
pub fn line(out: &mut impl Write, text: &str) -> Outcome {
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")?;
    Ok(())
}
