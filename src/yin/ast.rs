//! The Universal AST, and how it is stored as datoms (DESIGN.md, "Yin").
//!
//! Every node is an entity with a `:yin/type`. Children are references; an application's
//! operands are a cardinality-many reference, and each operand carries its place in
//! `:yin/position`, so their order is written down rather than left to the order of entity
//! ids. Parameter lists are one string of space-separated names (`:yin/params "x y"`),
//! which keeps a lambda one entity and its parameters in one datom.
//!
//! | attribute | type | on |
//! |---|---|---|
//! | `:yin/type` | keyword | every node: `:literal`, `:variable`, `:lambda`, `:application`, `:if`, `:vm/…`, `:stream/…` |
//! | `:yin/value` | any scalar | `:literal` |
//! | `:yin/name` | string | `:variable`, `:vm/store-get`, `:vm/store-put` |
//! | `:yin/params`, `:yin/rest` | string | `:lambda` (`:yin/rest` names the `&` parameter) |
//! | `:yin/body` | ref | `:lambda` |
//! | `:yin/operator` | ref | `:application` |
//! | `:yin/operands` | ref, many | `:application`, `:vm/…`, `:stream/…` |
//! | `:yin/position` | long | each operand: 0, 1, … |
//! | `:yin/test`, `:yin/consequent`, `:yin/alternate` | ref | `:if` |
//! | `:yin/tail?` | boolean | `:application` in tail position |
//! | `:yin/source` | string | a program's root node: the text it was compiled from |

use super::value::Name;
use crate::dao::{Database, DbSnapshot, Index, Value as DaoValue, ASSERTED};
use crate::error::{Error, ErrorKind, Result};

/// The schema of program datoms, transacted once per database.
pub const SCHEMA: &str = r#"[
 {:db/ident :yin/type :db/valueType :db.type/keyword :db/index true}
 {:db/ident :yin/value :db/valueType :db.type/any}
 {:db/ident :yin/name :db/valueType :db.type/string}
 {:db/ident :yin/params :db/valueType :db.type/string}
 {:db/ident :yin/rest :db/valueType :db.type/string}
 {:db/ident :yin/body :db/valueType :db.type/ref}
 {:db/ident :yin/operator :db/valueType :db.type/ref}
 {:db/ident :yin/operands :db/valueType :db.type/ref :db/cardinality :db.cardinality/many}
 {:db/ident :yin/position :db/valueType :db.type/long}
 {:db/ident :yin/test :db/valueType :db.type/ref}
 {:db/ident :yin/consequent :db/valueType :db.type/ref}
 {:db/ident :yin/alternate :db/valueType :db.type/ref}
 {:db/ident :yin/tail? :db/valueType :db.type/boolean}
 {:db/ident :yin/source :db/valueType :db.type/string}
]"#;

/// The operations beyond the five core node types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum VmOp {
    Park,
    Resume,
    StoreGet,
    StorePut,
    StreamMake,
    StreamPut,
    StreamCursor,
    StreamNext,
    StreamClose,
    CurrentContinuation,
}

impl VmOp {
    /// Every operation; an image stores an operation as its place here, so new ones go at
    /// the end.
    pub const ALL: [VmOp; 10] = [
        VmOp::Park,
        VmOp::Resume,
        VmOp::StoreGet,
        VmOp::StorePut,
        VmOp::StreamMake,
        VmOp::StreamPut,
        VmOp::StreamCursor,
        VmOp::StreamNext,
        VmOp::StreamClose,
        VmOp::CurrentContinuation,
    ];

    /// The node type keyword, without the colon.
    pub fn keyword(self) -> &'static str {
        match self {
            VmOp::Park => "vm/park",
            VmOp::Resume => "vm/resume",
            VmOp::StoreGet => "vm/store-get",
            VmOp::StorePut => "vm/store-put",
            VmOp::StreamMake => "stream/make",
            VmOp::StreamPut => "stream/put",
            VmOp::StreamCursor => "stream/cursor",
            VmOp::StreamNext => "stream/next",
            VmOp::StreamClose => "stream/close",
            VmOp::CurrentContinuation => "vm/current-continuation",
        }
    }

    /// Does the operation act on the world outside the agent (streams, other agents)?
    /// The runtime performs those, committed with the agent's state after them.
    pub fn is_effect(self) -> bool {
        !matches!(
            self,
            VmOp::Park | VmOp::StoreGet | VmOp::StorePut | VmOp::CurrentContinuation
        )
    }

    /// How many operands the operation takes.
    pub fn arity(self) -> usize {
        match self {
            VmOp::Park | VmOp::StoreGet | VmOp::StreamMake | VmOp::CurrentContinuation => 0,
            VmOp::StorePut | VmOp::StreamCursor | VmOp::StreamNext | VmOp::StreamClose => 1,
            VmOp::Resume | VmOp::StreamPut => 2,
        }
    }
}

/// A node of the Universal AST, as the compiler builds it and as it is read back.
#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    /// A scalar: nil, boolean, long, double, string, keyword or symbol.
    Literal(DaoValue),
    Variable(Name),
    Lambda {
        params: Vec<Name>,
        rest: Option<Name>,
        body: Box<Ast>,
    },
    Application {
        operator: Box<Ast>,
        operands: Vec<Ast>,
        tail: bool,
    },
    If {
        test: Box<Ast>,
        consequent: Box<Ast>,
        alternate: Box<Ast>,
    },
    Vm {
        op: VmOp,
        /// The global a store operation names.
        name: Option<Name>,
        operands: Vec<Ast>,
    },
}

/// The kind of a stored node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeType {
    Literal,
    Variable,
    Lambda,
    Application,
    If,
    Vm(VmOp),
}

impl NodeType {
    fn from_keyword(k: &str) -> Option<NodeType> {
        Some(match k {
            "literal" => NodeType::Literal,
            "variable" => NodeType::Variable,
            "lambda" => NodeType::Lambda,
            "application" => NodeType::Application,
            "if" => NodeType::If,
            _ => NodeType::Vm(VmOp::ALL.into_iter().find(|op| op.keyword() == k)?),
        })
    }

    fn keyword(self) -> &'static str {
        match self {
            NodeType::Literal => "literal",
            NodeType::Variable => "variable",
            NodeType::Lambda => "lambda",
            NodeType::Application => "application",
            NodeType::If => "if",
            NodeType::Vm(op) => op.keyword(),
        }
    }
}

/// The entity ids of the program attributes in one database.
#[derive(Clone, Copy, Debug)]
pub struct Attrs {
    pub kind: u64,
    pub value: u64,
    pub name: u64,
    pub params: u64,
    pub rest: u64,
    pub body: u64,
    pub operator: u64,
    pub operands: u64,
    pub position: u64,
    pub test: u64,
    pub consequent: u64,
    pub alternate: u64,
    pub tail: u64,
    pub source: u64,
}

impl Attrs {
    /// Installs the schema if it is missing and returns the attribute ids.
    pub fn install(db: &Database<'_>) -> Result<Attrs> {
        if let Ok(attrs) = Attrs::find(db) {
            return Ok(attrs);
        }
        db.transact_edn(SCHEMA, None)?;
        Attrs::find(db)
    }

    /// The attribute ids, if the schema is installed.
    pub fn find(db: &Database<'_>) -> Result<Attrs> {
        let slab = db.slab();
        let guard = slab.pin()?;
        let snapshot = db.snapshot(&guard)?;
        let schema = crate::dao::Schema::read(&snapshot)?;
        let id = |ident: &str| -> Result<u64> {
            schema.entity(ident).ok_or_else(|| {
                Error::new(
                    ErrorKind::NotFound,
                    format!("the database has no :{ident}: it holds no Yin programs"),
                )
            })
        };
        Ok(Attrs {
            kind: id("yin/type")?,
            value: id("yin/value")?,
            name: id("yin/name")?,
            params: id("yin/params")?,
            rest: id("yin/rest")?,
            body: id("yin/body")?,
            operator: id("yin/operator")?,
            operands: id("yin/operands")?,
            position: id("yin/position")?,
            test: id("yin/test")?,
            consequent: id("yin/consequent")?,
            alternate: id("yin/alternate")?,
            tail: id("yin/tail?")?,
            source: id("yin/source")?,
        })
    }
}

/// Writes `ast` as datoms in one transaction; returns the root node's entity id.
pub fn store(db: &Database<'_>, attrs: &Attrs, ast: &Ast, source: Option<&str>) -> Result<u64> {
    let (_, root) = db.transact_with(|_, ids| {
        let mut datoms = Vec::new();
        let root = emit(ast, attrs, &mut || ids.allocate(), &mut datoms);
        if let Some(text) = source {
            datoms.push((
                root,
                attrs.source,
                DaoValue::String(text.to_string()),
                ASSERTED,
            ));
        }
        Ok((datoms, root))
    })?;
    Ok(root)
}

fn emit(
    ast: &Ast,
    attrs: &Attrs,
    new_id: &mut dyn FnMut() -> u64,
    out: &mut Vec<(u64, u64, DaoValue, u64)>,
) -> u64 {
    let e = new_id();
    let add = |out: &mut Vec<_>, a: u64, v: DaoValue| out.push((e, a, v, ASSERTED));
    let kind = |t: NodeType| DaoValue::Keyword(t.keyword().to_string());
    let operands = |out: &mut Vec<_>, new_id: &mut dyn FnMut() -> u64, items: &[Ast]| {
        for (i, item) in items.iter().enumerate() {
            let child = emit(item, attrs, new_id, out);
            out.push((child, attrs.position, DaoValue::Long(i as i64), ASSERTED));
            out.push((e, attrs.operands, DaoValue::Ref(child), ASSERTED));
        }
    };
    match ast {
        Ast::Literal(v) => {
            add(out, attrs.kind, kind(NodeType::Literal));
            add(out, attrs.value, v.clone());
        }
        Ast::Variable(name) => {
            add(out, attrs.kind, kind(NodeType::Variable));
            add(out, attrs.name, DaoValue::String(name.to_string()));
        }
        Ast::Lambda { params, rest, body } => {
            add(out, attrs.kind, kind(NodeType::Lambda));
            let joined: Vec<&str> = params.iter().map(|p| &**p).collect();
            add(out, attrs.params, DaoValue::String(joined.join(" ")));
            if let Some(rest) = rest {
                add(out, attrs.rest, DaoValue::String(rest.to_string()));
            }
            let body = emit(body, attrs, new_id, out);
            add(out, attrs.body, DaoValue::Ref(body));
        }
        Ast::Application {
            operator,
            operands: items,
            tail,
        } => {
            add(out, attrs.kind, kind(NodeType::Application));
            let op = emit(operator, attrs, new_id, out);
            out.push((e, attrs.operator, DaoValue::Ref(op), ASSERTED));
            operands(out, new_id, items);
            if *tail {
                out.push((e, attrs.tail, DaoValue::Boolean(true), ASSERTED));
            }
        }
        Ast::If {
            test,
            consequent,
            alternate,
        } => {
            add(out, attrs.kind, kind(NodeType::If));
            for (a, child) in [
                (attrs.test, test),
                (attrs.consequent, consequent),
                (attrs.alternate, alternate),
            ] {
                let c = emit(child, attrs, new_id, out);
                out.push((e, a, DaoValue::Ref(c), ASSERTED));
            }
        }
        Ast::Vm {
            op,
            name,
            operands: items,
        } => {
            add(out, attrs.kind, kind(NodeType::Vm(*op)));
            if let Some(name) = name {
                add(out, attrs.name, DaoValue::String(name.to_string()));
            }
            operands(out, new_id, items);
        }
    }
    e
}

/// One node's datoms, read with one scan of EAVT.
#[derive(Clone, Debug, Default)]
pub struct Node {
    pub kind: Option<NodeType>,
    pub value: Option<DaoValue>,
    pub name: Option<String>,
    pub params: Option<String>,
    pub rest: Option<String>,
    pub body: u64,
    pub operator: u64,
    /// In entity order; `operands_in_order` sorts them by position.
    pub operands: Vec<u64>,
    pub position: Option<i64>,
    pub test: u64,
    pub consequent: u64,
    pub alternate: u64,
    pub tail: bool,
}

fn corrupt(e: u64, what: &str) -> Error {
    Error::new(
        ErrorKind::Corrupt,
        format!("program node {e} is malformed: {what}"),
    )
}

impl Node {
    /// Reads node `e` from the program datoms of `db`.
    pub fn read(db: &DbSnapshot<'_>, attrs: &Attrs, e: u64) -> Result<Node> {
        let mut node = Node::default();
        for datom in db.current(Index::Eavt, &e.to_be_bytes()) {
            let d = datom?;
            let reference = |v: &DaoValue| match v {
                DaoValue::Ref(r) => Ok(*r),
                _ => Err(corrupt(e, "a child is not a reference")),
            };
            let text = |v: DaoValue| match v {
                DaoValue::String(s) => Ok(s),
                _ => Err(corrupt(e, "a name is not a string")),
            };
            match d.a {
                a if a == attrs.kind => match &d.v {
                    DaoValue::Keyword(k) => {
                        node.kind = Some(
                            NodeType::from_keyword(k)
                                .ok_or_else(|| corrupt(e, &format!("unknown type :{k}")))?,
                        )
                    }
                    _ => return Err(corrupt(e, ":yin/type is not a keyword")),
                },
                a if a == attrs.value => node.value = Some(d.v),
                a if a == attrs.name => node.name = Some(text(d.v)?),
                a if a == attrs.params => node.params = Some(text(d.v)?),
                a if a == attrs.rest => node.rest = Some(text(d.v)?),
                a if a == attrs.body => node.body = reference(&d.v)?,
                a if a == attrs.operator => node.operator = reference(&d.v)?,
                a if a == attrs.operands => node.operands.push(reference(&d.v)?),
                a if a == attrs.position => {
                    node.position = match d.v {
                        DaoValue::Long(p) => Some(p),
                        _ => return Err(corrupt(e, ":yin/position is not a long")),
                    }
                }
                a if a == attrs.test => node.test = reference(&d.v)?,
                a if a == attrs.consequent => node.consequent = reference(&d.v)?,
                a if a == attrs.alternate => node.alternate = reference(&d.v)?,
                a if a == attrs.tail => node.tail = d.v == DaoValue::Boolean(true),
                _ => {}
            }
        }
        if node.kind.is_none() {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("entity {e} is not a program node (it has no :yin/type)"),
            ));
        }
        Ok(node)
    }

    pub fn kind(&self) -> NodeType {
        self.kind.expect("Node::read refuses nodes without a type")
    }

    /// The operand entity ids in their written order (`:yin/position`).
    pub fn operands_in_order(
        &self,
        db: &DbSnapshot<'_>,
        attrs: &Attrs,
        e: u64,
    ) -> Result<Vec<u64>> {
        if self.operands.len() < 2 {
            return Ok(self.operands.clone());
        }
        let mut placed = Vec::with_capacity(self.operands.len());
        for &child in &self.operands {
            let mut prefix = child.to_be_bytes().to_vec();
            prefix.extend_from_slice(&attrs.position.to_be_bytes());
            let position = match db.current(Index::Eavt, &prefix).next() {
                Some(d) => match d?.v {
                    DaoValue::Long(p) => p,
                    _ => return Err(corrupt(child, ":yin/position is not a long")),
                },
                None => return Err(corrupt(e, &format!("operand {child} has no :yin/position"))),
            };
            placed.push((position, child));
        }
        placed.sort_unstable();
        if placed.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(corrupt(e, "two operands share a position"));
        }
        Ok(placed.into_iter().map(|(_, c)| c).collect())
    }

    /// The lambda's parameter names.
    pub fn param_names(&self) -> Vec<Name> {
        self.params
            .as_deref()
            .unwrap_or("")
            .split(' ')
            .filter(|p| !p.is_empty())
            .map(Name::from)
            .collect()
    }
}

/// Reads the whole tree under `root` back into an `Ast`.
pub fn load(db: &DbSnapshot<'_>, attrs: &Attrs, root: u64) -> Result<Ast> {
    load_depth(db, attrs, root, 0)
}

fn load_depth(db: &DbSnapshot<'_>, attrs: &Attrs, e: u64, depth: usize) -> Result<Ast> {
    if depth > 10_000 {
        return Err(corrupt(
            e,
            "the tree is more than 10,000 levels deep (a cycle?)",
        ));
    }
    let node = Node::read(db, attrs, e)?;
    let child = |c: u64, what: &str| -> Result<Box<Ast>> {
        if c == 0 {
            return Err(corrupt(e, &format!("it has no {what}")));
        }
        Ok(Box::new(load_depth(db, attrs, c, depth + 1)?))
    };
    let operands = || -> Result<Vec<Ast>> {
        node.operands_in_order(db, attrs, e)?
            .into_iter()
            .map(|c| load_depth(db, attrs, c, depth + 1))
            .collect()
    };
    Ok(match node.kind() {
        NodeType::Literal => Ast::Literal(node.value.clone().unwrap_or(DaoValue::Nil)),
        NodeType::Variable => Ast::Variable(
            node.name
                .as_deref()
                .ok_or_else(|| corrupt(e, "a variable has no :yin/name"))?
                .into(),
        ),
        NodeType::Lambda => Ast::Lambda {
            params: node.param_names(),
            rest: node.rest.as_deref().map(Name::from),
            body: child(node.body, ":yin/body")?,
        },
        NodeType::Application => Ast::Application {
            operator: child(node.operator, ":yin/operator")?,
            operands: operands()?,
            tail: node.tail,
        },
        NodeType::If => Ast::If {
            test: child(node.test, ":yin/test")?,
            consequent: child(node.consequent, ":yin/consequent")?,
            alternate: child(node.alternate, ":yin/alternate")?,
        },
        NodeType::Vm(op) => Ast::Vm {
            op,
            name: node.name.as_deref().map(Name::from),
            operands: operands()?,
        },
    })
}
