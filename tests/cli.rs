//! The `eve` command-line tool, run as a real process against real slab files: every
//! subcommand's output, its `--help`, exit codes (0 success, 1 a problem, 2 usage), and
//! the round trips (export → import, compact) checked with queries.

#![cfg(feature = "cli")]

use eve::dao::{Change, Value};
use eve::{KeyOp, Op, Slab};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const EVE: &str = env!("CARGO_BIN_EXE_eve");

const SCHEMA: &str = r#"[{:db/ident :person/name :db/valueType :db.type/string
  :db/cardinality :db.cardinality/one :db/unique :db.unique/identity}
 {:db/ident :person/age :db/valueType :db.type/long :db/cardinality :db.cardinality/one}
 {:db/ident :person/friend :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :person/photo :db/valueType :db.type/bytes :db/cardinality :db.cardinality/one}
 {:db/ident :person/born :db/valueType :db.type/instant :db/cardinality :db.cardinality/one}
 {:db/ident :person/score :db/valueType :db.type/double :db/cardinality :db.cardinality/one}]"#;

const PEOPLE: &str = r#"[{:db/id "ada" :person/name "Ada" :person/age 36 :person/photo "ada.png"
  :person/born #inst "1815-12-10T00:00:00Z" :person/score 1.5}
 {:db/id "alan" :person/name "Alan" :person/age 41 :person/friend "ada"}
 {:db/id "grace" :person/name "Grace" :person/age 85 :person/friend ["ada" "alan"]}]"#;

const NAMES_AGES: &str = "[:find ?n ?a :where [?e :person/name ?n] [?e :person/age ?a]]";

/// Runs `eve args...` with `stdin` as its input.
fn run_with(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(EVE)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running eve");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn run(args: &[&str]) -> Output {
    run_with(args, "")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Runs eve, expects success, returns stdout.
fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "eve {args:?} failed\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Runs eve, expects exit code `code`, returns (stdout, stderr).
fn fails(args: &[&str], code: i32) -> (String, String) {
    let out = run(args);
    assert_eq!(
        out.status.code(),
        Some(code),
        "eve {args:?}: wrong exit code\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    (text(&out.stdout), text(&out.stderr))
}

fn has(haystack: &str, needle: &str) {
    assert!(
        haystack.contains(needle),
        "expected {needle:?} in:\n{haystack}"
    );
}

fn s(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A slab with the people database (schema at t 1, people at t 2), made with the CLI.
fn people(dir: &Path) -> PathBuf {
    let path = dir.join("people.slab");
    ok(&["transact", s(&path), "people", SCHEMA]);
    ok(&["transact", s(&path), "people", PEOPLE]);
    path
}

/// A slab with one root of every kind, made with the library.
fn mixed(dir: &Path) -> PathBuf {
    let path = dir.join("mixed.slab");
    let slab = Slab::open(&path).unwrap();
    slab.map("users")
        .unwrap()
        .apply(&[
            Op::Insert(b"alan", b"Alan Turing"),
            Op::Insert(b"ada", b"Ada Lovelace"),
            Op::Insert(b"bin", &[0x00, 0xff]),
        ])
        .unwrap();
    slab.set("tags")
        .unwrap()
        .apply(&[b"blue", b"red"], &[])
        .unwrap();
    slab.btree("sorted")
        .unwrap()
        .apply(&[
            KeyOp::Insert(b"b"),
            KeyOp::Insert(b"a"),
            KeyOp::Insert(b"c"),
        ])
        .unwrap();
    slab.root("counter")
        .unwrap()
        .compare_exchange(0, 42)
        .unwrap()
        .unwrap();
    let db = slab.database("people").unwrap();
    db.transact_edn(SCHEMA, None).unwrap();
    db.transact_edn(PEOPLE, None).unwrap();
    path
}

#[test]
fn help_everywhere() {
    let top = ok(&["--help"]);
    for command in [
        "stat", "check", "repair", "dump", "transact", "query", "pull", "datoms", "export",
        "import", "compact",
    ] {
        has(&top, &format!("  {command} "));
        for flag in ["--help", "-h"] {
            let help = ok(&[command, flag]);
            has(&help, &format!("Usage: eve {command}"));
            has(&help, "Exit codes:");
            has(&help, "2  usage error");
        }
        has(&ok(&["help", command]), &format!("Usage: eve {command}"));
    }
    has(&top, "Exit codes:");
    has(&top, "1  a problem");
    has(&ok(&["--version"]), "eve ");
    has(
        &ok(&["compact", "--help"]),
        "full history and transaction log",
    );
}

#[test]
fn usage_errors_exit_2() {
    has(&fails(&[], 2).1, "Usage: eve <COMMAND>");
    has(&fails(&["bogus"], 2).1, "unrecognized subcommand 'bogus'");
    has(&fails(&["query", "x.slab"], 2).1, "required");
    has(&fails(&["stat"], 2).1, "<SLAB>");
    has(
        &fails(&["datoms", "x.slab", "db", "xyz"], 2).1,
        "invalid value 'xyz'",
    );
    has(
        &fails(&["query", "x", "db", "[]", "--as-of", "1", "--history"], 2).1,
        "cannot be used with",
    );
    has(
        &fails(&["export", "x", "db", "--batch", "0"], 2).1,
        "--batch",
    );
    has(&fails(&["stat", "x", "--frobnicate"], 2).1, "--frobnicate");
}

#[test]
fn transact_query_pull_and_datoms() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("people.slab");
    let schema = ok(&["transact", s(&path), "people", SCHEMA]);
    has(&schema, "{:t 1, :tempids {}, :tx-data [");
    has(&schema, "[1048576 :db/ident :person/name 1 true]");
    let tx = ok(&["transact", s(&path), "people", PEOPLE]);
    has(
        &tx,
        r#"{:t 2, :tempids {"ada" 1048582, "alan" 1048583, "grace" 1048584}, :tx-data ["#,
    );
    has(&tx, r#"[1048582 :person/name "Ada" 2 true]"#);
    has(&tx, "[1048584 :person/friend 1048583 2 true]");
    // From stdin, with transaction metadata; `-` reads stdin too.
    let out = run_with(
        &[
            "transact",
            s(&path),
            "people",
            "--meta",
            r#"{:db/doc "birthday"}"#,
        ],
        r#"[[:db/add [:person/name "Ada"] :person/age 37]]"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    has(&text(&out.stdout), "[1048582 :person/age 36 3 false]");
    has(&text(&out.stdout), "[1048582 :person/age 37 3 true]");
    has(&text(&out.stdout), r#":db/doc "birthday" 3 true]"#);

    assert_eq!(
        ok(&["query", s(&path), "people", NAMES_AGES]),
        "#{[\"Ada\" 37] [\"Alan\" 41] [\"Grace\" 85]}\n"
    );
    let older =
        "[:find ?n :in $ ?min :where [?e :person/age ?a] [(>= ?a ?min)] [?e :person/name ?n]]";
    assert_eq!(
        ok(&["query", s(&path), "people", older, "[40]"]),
        "#{[\"Alan\"] [\"Grace\"]}\n"
    );
    assert_eq!(
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find ?a . :where [?e :person/name \"Ada\"] [?e :person/age ?a]]",
            "--as-of",
            "2"
        ]),
        "36\n"
    );
    assert_eq!(
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find ?a :where [_ :person/age ?a]]",
            "--since",
            "2"
        ]),
        "#{[37]}\n"
    );
    assert_eq!(
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find ?a :where [?e :person/name \"Ada\"] [?e :person/age ?a]]",
            "--history"
        ]),
        "#{[36] [37]}\n"
    );
    let out = run_with(
        &["query", s(&path), "people", "-"],
        "[:find (count ?e) . :where [?e :person/name]]",
    );
    assert_eq!(text(&out.stdout), "3\n");
    assert_eq!(
        ok(&[
            "pull",
            s(&path),
            "people",
            "[:person/name :person/age]",
            "[:person/name \"Alan\"]"
        ]),
        "{:person/name \"Alan\", :person/age 41}\n"
    );

    assert_eq!(
        ok(&["datoms", s(&path), "people", "avet", "[:person/age]"]),
        "[1048582 :person/age 37 3 true]\n[1048583 :person/age 41 2 true]\n[1048584 :person/age 85 2 true]\n"
    );
    assert_eq!(
        ok(&["datoms", s(&path), "people", "eavt", "[[:person/name \"Ada\"] :person/age]", "--history"]),
        "[1048582 :person/age 36 2 true]\n[1048582 :person/age 36 3 false]\n[1048582 :person/age 37 3 true]\n"
    );
    assert_eq!(
        ok(&[
            "datoms",
            s(&path),
            "people",
            "eavt",
            "[1048582 :person/age]",
            "--as-of",
            "2"
        ]),
        "[1048582 :person/age 36 2 true]\n"
    );
    assert_eq!(
        ok(&["datoms", s(&path), "people", "vaet", "[1048582]"]),
        "[1048583 :person/friend 1048582 2 true]\n[1048584 :person/friend 1048582 2 true]\n"
    );
    let aevt = ok(&["datoms", s(&path), "people", "aevt", "[:person/born]"]);
    assert_eq!(
        aevt,
        "[1048582 :person/born #inst \"1815-12-10T00:00:00.000Z\" 2 true]\n"
    );
    let log = ok(&["datoms", s(&path), "people", "log", "[3]"]);
    assert_eq!(log.lines().count(), 3, "{log}");
    assert!(log
        .lines()
        .all(|l| l.ends_with(" 3 true]") || l.ends_with(" 3 false]")));
    assert_eq!(
        ok(&["datoms", s(&path), "people", "eavt", "--limit", "2"])
            .lines()
            .count(),
        2
    );
    has(
        &fails(&["datoms", s(&path), "people", "log", "--history"], 1).1,
        "do not apply",
    );
}

#[test]
fn stat_shows_size_readers_and_roots() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed(dir.path());
    let out = ok(&["stat", s(&path)]);
    for fragment in [
        "format         version 4\n",
        "size           ",
        "free           ",
        "retired        ",
        "oldest pinned  none\n",
        "readers        0 slots claimed of 1024, 0 pinned\n",
        "other handles  none\n",
        "roots          5\n",
        "  0    map       \"users\"\n",
        "  1    set       \"tags\"\n",
        "  2    btree     \"sorted\"\n",
        "  3    raw       \"counter\"\n",
        "  4    database  \"people\"\n",
    ] {
        has(&out, fragment);
    }
    // A reader pinned in this process shows up with its pid and epoch.
    let slab = Slab::open(&path).unwrap();
    let guard = slab.pin().unwrap();
    let epoch = guard.epoch();
    let out = ok(&["stat", s(&path)]);
    has(
        &out,
        &format!("pid {:<8} pinned at epoch {epoch}", std::process::id()),
    );
    has(&out, &format!("oldest pinned  epoch {epoch}\n"));
    has(&out, ", 1 pinned\n");
    has(&out, "other handles  yes");
    let edn = ok(&["stat", s(&path), "--edn"]);
    has(
        &edn,
        &format!(
            ":pid {}, :alive true, :pinned-epoch {epoch}}}",
            std::process::id()
        ),
    );
    has(&edn, ":other-handles true");
    has(&edn, "{:index 4, :name \"people\", :kind :database}");
    drop(guard);
    drop(slab);
}

#[test]
fn dump_prints_roots_as_edn() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed(dir.path());
    let out = ok(&["dump", s(&path)]);
    has(&out, ";; ");
    has(&out, ": 5 roots\n");
    has(&out, "{:name \"users\", :index 0, :kind :map, :value ");
    has(
        &out,
        ", :count 3, :entries {\n   \"ada\" \"Ada Lovelace\"\n   \"alan\" \"Alan Turing\"\n   \"bin\" #eve/bytes \"00ff\"}}\n",
    );
    has(&out, ", :count 2, :members #{\n   \"blue\"\n   \"red\"}}\n");
    has(&out, "{:name \"sorted\", :index 2, :kind :btree, :value ");
    has(
        &out,
        ", :count 3, :keys [\n   \"a\"\n   \"b\"\n   \"c\"]}\n",
    );
    has(
        &out,
        "{:name \"counter\", :index 3, :kind :raw, :value 42}\n",
    );
    has(
        &out,
        "{:name \"people\", :index 4, :kind :database, :value ",
    );
    has(&out, ", :basis-t 2, :datoms 31}\n");
    let only = ok(&["dump", s(&path), "people", "--datoms", "--limit", "2"]);
    has(&only, ", :basis-t 2, :datoms 31, :current [\n   [1048576 :db/ident :person/name]\n   [1048576 :db/valueType :db.type/string]]}\n");
    assert!(!only.contains("users"));
    has(
        &fails(&["dump", s(&path), "nope"], 1).1,
        "no root named \"nope\"",
    );
}

#[test]
fn errors_are_clear_and_exit_1() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.slab");
    for command in [
        vec!["stat", s(&missing)],
        vec!["check", s(&missing)],
        vec!["dump", s(&missing)],
        vec!["repair", s(&missing)],
        vec!["query", s(&missing), "db", "[:find ?e :where [?e :a]]"],
        vec!["export", s(&missing), "db"],
        vec!["compact", s(&missing), "out.slab"],
    ] {
        let (_, err) = fails(&command, 1);
        assert_eq!(err, format!("eve: {}: no such file\n", missing.display()));
    }
    assert!(!missing.exists(), "a read command created the slab");

    let junk = dir.path().join("junk.slab");
    std::fs::write(&junk, vec![b'x'; 10_000]).unwrap();
    let (_, err) = fails(&["stat", s(&junk)], 1);
    has(&err, "is not an eve slab (bad magic");
    let (_, err) = fails(&["check", s(&junk)], 1);
    has(&err, "is not an eve slab");
    let (_, err) = fails(&["transact", s(&junk), "db", "[]"], 1);
    has(&err, "is not an eve slab");
    assert_eq!(std::fs::read(&junk).unwrap(), vec![b'x'; 10_000]);

    let path = people(dir.path());
    let (_, err) = fails(&["transact", s(&path), "people", "[{:person/name \"x\""], 1);
    has(&err, "eve: malformed EDN in the transaction data at line 1");
    let (_, err) = fails(
        &["transact", s(&path), "people", "[{:person/nmae \"x\"}]"],
        1,
    );
    assert_eq!(err, "eve: unknown attribute :person/nmae\n");
    let (_, err) = fails(
        &[
            "query",
            s(&path),
            "people",
            "[:find ?e :where [?e :person/name]",
        ],
        1,
    );
    has(&err, "eve: malformed EDN in the query");
    let (_, err) = fails(&["query", s(&path), "people", NAMES_AGES, "[1 2"], 1);
    has(&err, "malformed EDN in the query inputs");
    let (_, err) = fails(&["query", s(&path), "nope", NAMES_AGES], 1);
    assert_eq!(
        err,
        format!(
            "eve: {}: no database named \"nope\" (databases: \"people\")\n",
            path.display()
        )
    );
    fails(&["datoms", s(&path), "nope", "eavt"], 1);
    fails(&["export", s(&path), "nope"], 1);
    let target = dir.path().join("nope.edn");
    fails(&["export", s(&path), "nope", s(&target)], 1);
    assert!(!target.exists());
    let (_, err) = fails(
        &[
            "datoms",
            s(&path),
            "people",
            "eavt",
            "[[:person/name \"Nobody\"]]",
        ],
        1,
    );
    has(&err, "finds no entity");
    let mixed = mixed(dir.path());
    let (_, err) = fails(&["query", s(&mixed), "users", NAMES_AGES], 1);
    has(&err, "root \"users\" is a map, not a database");
    // Nothing of a failed transaction was written.
    assert_eq!(
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find (count ?e) . :where [?e :person/name]]"
        ]),
        "3\n"
    );
}

#[test]
fn check_passes_a_good_slab_and_fails_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed(dir.path());
    let out = ok(&["check", s(&path)]);
    has(&out, &format!("checking {}\n", path.display()));
    has(&out, "  map \"users\": 3 entries\n");
    has(&out, "  set \"tags\": 2 members\n");
    has(&out, "  btree \"sorted\": 3 keys in order\n");
    has(&out, "  raw \"counter\": value 42\n");
    has(
        &out,
        "  database \"people\": basis t 2, 31 current datoms, 31 in the history; indexes and log agree\n",
    );
    has(&out, ", 0 leaked (0 bytes); ");
    has(&out, "ok: no problems found\n");

    // Damage the first page of the heap (its page header) in a copy.
    let heap_start = 131_072;
    let damaged = dir.path().join("damaged.slab");
    let mut bytes = std::fs::read(&path).unwrap();
    for b in &mut bytes[heap_start..heap_start + 32] {
        *b ^= 0x5a;
    }
    std::fs::write(&damaged, &bytes).unwrap();
    let (out, err) = fails(&["check", s(&damaged)], 1);
    has(&out, "problem: ");
    assert!(!out.contains("ok: no problems"));
    has(&err, "eve: check failed: ");
    has(&err, &format!(" in {}\n", damaged.display()));

    // A damaged header is refused at open.
    let header = dir.path().join("header.slab");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[20] ^= 0xff;
    std::fs::write(&header, &bytes).unwrap();
    let (_, err) = fails(&["check", s(&header)], 1);
    assert_eq!(
        err,
        format!("eve: {}: header checksum mismatch\n", header.display())
    );
    // The good one is untouched by all this.
    ok(&["check", s(&path)]);
}

/// Entry point of a child process that dies in the middle of an update, leaking the blocks
/// it allocated (run by `check_reports_leaks_and_repair_frees_them`).
#[test]
#[ignore]
fn leaky_writer_child() {
    let Ok(path) = std::env::var("EVE_CLI_LEAKY_SLAB") else {
        return;
    };
    let slab = Slab::open(path).unwrap();
    let map = slab.map("users").unwrap();
    let _ = map.update(|txn| -> eve::Result<()> {
        for i in 0..5000u64 {
            txn.insert(&i.to_le_bytes(), &[7; 64])?;
        }
        // Die without unwinding or destructors, like `kill -9`: the allocated,
        // unpublished blocks leak and the reader slot stays pinned by a dead process.
        std::process::abort()
    });
}

#[test]
fn check_reports_leaks_and_repair_frees_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed(dir.path());
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "leaky_writer_child",
            "--exact",
            "--ignored",
            "--nocapture",
            "-q",
        ])
        .env("EVE_CLI_LEAKY_SLAB", &path)
        .current_dir(dir.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(!status.success());
    let (out, err) = fails(&["check", s(&path)], 1);
    has(
        &out,
        "are allocated but no root reaches them: leaked; `eve repair` frees them",
    );
    has(&err, "eve: check failed: 1 problem(s)");
    let stat = ok(&["stat", s(&path)]);
    has(&stat, "dead (was pinned at epoch");
    let out = ok(&["repair", s(&path)]);
    has(
        &out,
        "the slab was not closed cleanly: opening it ran a sweep, which freed ",
    );
    has(&out, &format!("swept {}: ", path.display()));
    let out = ok(&["check", s(&path)]);
    has(&out, ", 0 leaked (0 bytes); ");
    has(&out, "  map \"users\": 3 entries\n");
}

#[test]
fn repair_refuses_while_another_handle_is_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = people(dir.path());
    let slab = Slab::open(&path).unwrap();
    let db = slab.database("people").unwrap();
    db.transact_edn(r#"[{:person/name "Edsger" :person/age 72}]"#, None)
        .unwrap();

    let (out, err) = fails(&["repair", s(&path)], 1);
    assert_eq!(out, "");
    has(
        &err,
        &format!(
            "eve: refusing to repair {}: another handle has it open (processes holding reader slots: {}); close the other processes, or use --force if they are idle\n",
            path.display(),
            std::process::id()
        ),
    );
    {
        // Even forced, not while a thread is pinned.
        let _guard = slab.pin().unwrap();
        let (_, err) = fails(&["repair", s(&path), "--force"], 1);
        has(&err, "eve: refusing to repair: ");
        has(&err, "thread(s) are reading or writing right now");
    }
    let out = ok(&["repair", s(&path), "--force"]);
    has(&out, &format!("swept {}: ", path.display()));
    has(&out, " live blocks (");
    // The other handle keeps working on the swept slab.
    db.transact_edn(r#"[{:person/name "Barbara" :person/age 40}]"#, None)
        .unwrap();
    drop(slab);
    let out = ok(&["repair", s(&path)]);
    has(&out, "; freed ");
    ok(&["check", s(&path)]);
    assert_eq!(
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find (count ?e) . :where [?e :person/name]]"
        ]),
        "5\n"
    );
}

#[test]
fn export_import_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let path = people(dir.path());
    ok(&[
        "transact",
        s(&path),
        "people",
        r#"[[:db/retract [:person/name "Grace"] :person/friend [:person/name "Alan"]] [:db/add [:person/name "Ada"] :person/age 37]]"#,
    ]);
    {
        // A byte value EDN has no string for.
        let slab = Slab::open(&path).unwrap();
        let db = slab.database("people").unwrap();
        let guard = slab.pin().unwrap();
        let snapshot = db.snapshot(&guard).unwrap();
        let photo = snapshot.ident(":person/photo").unwrap().unwrap();
        let alan = snapshot.resolve_entity("[:person/name \"Alan\"]").unwrap();
        drop(guard);
        db.transact(&[Change::Add {
            e: alan,
            a: photo,
            v: Value::Bytes(vec![0x89, 0x50, 0x00, 0xff]),
        }])
        .unwrap();
    }
    let export = dir.path().join("people.edn");
    let out = run(&["export", s(&path), "people", s(&export)]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "");
    has(
        &text(&out.stderr),
        "exported 31 datoms in 2 transactions to ",
    );
    let file = std::fs::read_to_string(&export).unwrap();
    has(&file, "{:eve/export 1, :database \"people\", :format :statements, :basis-t 4, :next-entity 1048585, :datoms 31}\n");
    has(&file, "[[:db/add 1048576 :db/ident :person/name] ");
    has(&file, "[:db/add 1048582 :person/photo \"ada.png\"]");
    has(
        &file,
        "[:db/add 1048583 :person/photo #eve/bytes \"895000ff\"]",
    );
    has(&file, "[:db/add 1048582 :person/score 1.5]");
    // Refuses to overwrite without --force.
    has(
        &fails(&["export", s(&path), "people", s(&export)], 1).1,
        "exists; use --force",
    );
    ok(&[
        "export",
        s(&path),
        "people",
        s(&export),
        "--force",
        "--quiet",
        "--batch",
        "5",
    ]);
    assert_eq!(
        std::fs::read_to_string(&export).unwrap().lines().count(),
        2 + 4 + 3, // comment, header, schema in 4 batches (19 datoms), data in 3 (12)
    );

    let copy = dir.path().join("copy.slab");
    let out = ok(&["import", s(&copy), "people", s(&export)]);
    // 7 transactions of statements, and the one byte value in one of its own.
    assert_eq!(out, "{:imported 31, :transactions 8, :basis-t 8}\n");
    for query in [
        NAMES_AGES,
        "[:find ?n ?f :where [?e :person/name ?n] [?e :person/friend ?x] [?x :person/name ?f]]",
        "[:find ?e ?a ?v :where [?e ?a ?v]]",
        "[:find ?p ?b ?s :where [?e :person/photo ?p] [?e :person/born ?b] [?e :person/score ?s]]",
    ] {
        assert_eq!(
            ok(&["query", s(&copy), "people", query]),
            ok(&["query", s(&path), "people", query]),
            "{query}"
        );
    }
    // The same datoms, entity ids included (only their t differ).
    let strip_t = |datoms: String| -> Vec<String> {
        datoms
            .lines()
            .map(|l| l.rsplitn(3, ' ').nth(2).unwrap().to_string())
            .collect()
    };
    assert_eq!(
        strip_t(ok(&["datoms", s(&copy), "people", "eavt"])),
        strip_t(ok(&["datoms", s(&path), "people", "eavt"]))
    );
    // New entities do not reuse imported ids.
    let tx = ok(&[
        "transact",
        s(&copy),
        "people",
        r#"[{:db/id "x" :person/name "Xavier"}]"#,
    ]);
    has(&tx, r#":tempids {"x" 1048585}"#);

    // Through a pipe: export to stdout, import from stdin, whole history.
    let history = ok(&["export", s(&path), "people", "--history", "-q"]);
    has(&history, ":format :log, :basis-t 4,");
    has(&history, "[1048584 :person/friend 1048583 3 false]");
    let replayed = dir.path().join("replayed.slab");
    let out = run_with(&["import", s(&replayed), "people", "-", "-q"], &history);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "{:imported 35, :transactions 4, :basis-t 4}\n"
    );
    // The same t's: the same answers as of every t.
    for t in ["1", "2", "3", "4"] {
        assert_eq!(
            ok(&["query", s(&replayed), "people", NAMES_AGES, "--as-of", t]),
            ok(&["query", s(&path), "people", NAMES_AGES, "--as-of", t]),
        );
    }
    assert_eq!(
        ok(&[
            "query",
            s(&replayed),
            "people",
            "[:find ?e ?a ?v :where [?e ?a ?v]]"
        ]),
        ok(&[
            "query",
            s(&path),
            "people",
            "[:find ?e ?a ?v :where [?e ?a ?v]]"
        ]),
    );

    // Plain transaction vectors import too; bad input names its line.
    let plain = dir.path().join("plain.edn");
    std::fs::write(&plain, format!("{SCHEMA}\n;; people\n{PEOPLE}\n")).unwrap();
    let fresh = dir.path().join("fresh.slab");
    assert_eq!(
        ok(&["import", s(&fresh), "people", s(&plain)]),
        "{:imported 9, :transactions 2, :basis-t 2}\n"
    );
    std::fs::write(&plain, "[[:db/add 1048590 :person/nope 1]]\n").unwrap();
    let (_, err) = fails(&["import", s(&fresh), "people", s(&plain)], 1);
    assert_eq!(
        err,
        format!(
            "eve: {}, line 1: unknown attribute :person/nope\n",
            plain.display()
        )
    );
    // Malformed input is refused before anything is written.
    std::fs::write(
        &plain,
        "[[:db/add 1048590 :person/name \"Zed\"]]\n[[:db/add\n",
    )
    .unwrap();
    let (_, err) = fails(&["import", s(&fresh), "people", s(&plain)], 1);
    has(
        &err,
        &format!(
            "eve: {}: malformed EDN in the form starting at line 2: ",
            plain.display()
        ),
    );
    assert_eq!(
        ok(&[
            "query",
            s(&fresh),
            "people",
            "[:find (count ?e) . :where [?e :person/name]]"
        ]),
        "3\n"
    );
}

#[test]
fn compact_writes_a_smaller_checked_copy() {
    let dir = tempfile::tempdir().unwrap();
    let path = mixed(dir.path());
    {
        // Churn: many small transactions and map updates grow the file.
        let slab = Slab::open(&path).unwrap();
        let db = slab.database("people").unwrap();
        for age in 0..300 {
            db.transact_edn(
                &format!(r#"[[:db/add [:person/name "Ada"] :person/age {age}]]"#),
                None,
            )
            .unwrap();
        }
        let map = slab.map("users").unwrap();
        for i in 0..2000u64 {
            map.insert(format!("user{i}").as_bytes(), &[1; 200])
                .unwrap();
        }
        for i in 0..1000u64 {
            map.remove(format!("user{i}").as_bytes()).unwrap();
        }
    }
    let out_path = dir.path().join("compact.slab");
    let out = ok(&["compact", s(&path), s(&out_path)]);
    has(&out, &format!("compacted {} (", path.display()));
    has(&out, &format!(" into {} (", out_path.display()));
    has(&out, "): 5 roots copied; check: ok\n");
    let before = std::fs::metadata(&path).unwrap().len();
    let after = std::fs::metadata(&out_path).unwrap().len();
    assert!(after <= before, "{after} > {before}");

    ok(&["check", s(&out_path)]);
    for (query, view) in [
        (NAMES_AGES, vec![]),
        (NAMES_AGES, vec!["--as-of", "2"]),
        (NAMES_AGES, vec!["--as-of", "150"]),
        ("[:find ?a :where [?e :person/age ?a]]", vec!["--history"]),
        (
            "[:find ?a :where [?e :person/age ?a]]",
            vec!["--since", "290"],
        ),
    ] {
        let mut a = vec!["query", s(&path), "people", query];
        a.extend(&view);
        let mut b = vec!["query", s(&out_path), "people", query];
        b.extend(&view);
        assert_eq!(ok(&a), ok(&b), "{query} {view:?}");
    }
    // The log and the metadata of every datom come across whole.
    assert_eq!(
        ok(&["datoms", s(&out_path), "people", "log"]),
        ok(&["datoms", s(&path), "people", "log"])
    );
    // Roots and contents match; only the root words (offsets) differ.
    let strip = |dump: String| -> Vec<String> {
        dump.lines()
            .skip(1)
            .map(|l| match l.find(", :value ") {
                Some(at) => {
                    let rest = &l[at + 9..];
                    let end = rest.find([',', '}']).unwrap();
                    format!("{}{}", &l[..at], &rest[end..])
                }
                None => l.to_string(),
            })
            .collect()
    };
    assert_eq!(
        strip(ok(&["dump", s(&out_path), "--datoms"])),
        strip(ok(&["dump", s(&path), "--datoms"]))
    );
    has(
        &ok(&["dump", s(&out_path), "counter"]),
        ":kind :raw, :value 42}",
    );
    // The copy keeps the id counter: new entities get fresh ids.
    let original = ok(&["transact", s(&path), "people", r#"[{:person/name "New"}]"#]);
    let copied = ok(&[
        "transact",
        s(&out_path),
        "people",
        r#"[{:person/name "New"}]"#,
    ]);
    assert_eq!(original, copied);

    // An existing output is only replaced with --force.
    let (_, err) = fails(&["compact", s(&path), s(&out_path)], 1);
    assert_eq!(
        err,
        format!(
            "eve: {} exists; use --force to replace it\n",
            out_path.display()
        )
    );
    has(
        &ok(&["compact", s(&path), s(&out_path), "--force"]),
        "check: ok",
    );
    let (_, err) = fails(&["compact", s(&path), s(&path), "--force"], 1);
    has(&err, "is the slab being compacted");
    // No temporary files are left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
}
