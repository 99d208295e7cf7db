//! Reads the Clojure subset's text into forms that remember where they start, so the
//! compiler can say where a mistake is.

use std::fmt;

/// A form and its position (1-based line and column).
#[derive(Clone, Debug, PartialEq)]
pub struct Form {
    pub kind: FormKind,
    pub at: Pos,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum FormKind {
    Nil,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// Without the colon.
    Keyword(String),
    Symbol(String),
    List(Vec<Form>),
    Vector(Vec<Form>),
    /// Keys and values alternating.
    Map(Vec<Form>),
}

/// A reading error: what and where.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadError {
    pub message: String,
    pub at: Pos,
}

/// How deep forms may nest in the text. The reader recurses once per level (and every
/// stage after it once per level of the program it makes), so a limit keeps a pathological
/// text an error instead of a stack overflow, even on a small thread stack.
pub const MAX_NESTING: usize = 256;

/// Reads every top-level form of `text`.
pub fn read_all(text: &str) -> Result<Vec<Form>, ReadError> {
    let mut reader = Reader {
        chars: text.chars().collect(),
        i: 0,
        pos: Pos { line: 1, column: 1 },
        depth: 0,
    };
    let mut forms = Vec::new();
    loop {
        reader.skip_space();
        if reader.peek().is_none() {
            return Ok(forms);
        }
        forms.push(reader.form()?);
    }
}

struct Reader {
    chars: Vec<char>,
    i: usize,
    pos: Pos,
    /// How many forms enclose the one being read.
    depth: usize,
}

fn is_delimiter(c: char) -> bool {
    c.is_whitespace() || matches!(c, ',' | '(' | ')' | '[' | ']' | '{' | '}' | '"' | ';')
}

impl Reader {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.i).copied()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.i += 1;
        if c == '\n' {
            self.pos.line += 1;
            self.pos.column = 1;
        } else {
            self.pos.column += 1;
        }
        Some(c)
    }

    fn error<T>(&self, at: Pos, message: impl Into<String>) -> Result<T, ReadError> {
        Err(ReadError {
            message: message.into(),
            at,
        })
    }

    fn skip_space(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.bump();
            } else if c == ';' {
                while self.peek().is_some_and(|c| c != '\n') {
                    self.bump();
                }
            } else {
                break;
            }
        }
    }

    fn form(&mut self) -> Result<Form, ReadError> {
        if self.depth >= MAX_NESTING {
            return self.error(
                self.pos,
                format!("forms are nested more than {MAX_NESTING} levels deep"),
            );
        }
        self.depth += 1;
        let form = self.form_here();
        self.depth -= 1;
        form
    }

    fn form_here(&mut self) -> Result<Form, ReadError> {
        let at = self.pos;
        let Some(c) = self.peek() else {
            return self.error(at, "the text ends where a form was expected");
        };
        let kind = match c {
            '(' => FormKind::List(self.sequence(')')?),
            '[' => FormKind::Vector(self.sequence(']')?),
            '{' => {
                let items = self.sequence('}')?;
                if items.len() % 2 != 0 {
                    return self.error(at, "a map literal needs an even number of forms");
                }
                FormKind::Map(items)
            }
            ')' | ']' | '}' => return self.error(at, format!("unexpected {c:?}")),
            '\'' => {
                self.bump();
                self.skip_space();
                let quoted = self.form()?;
                FormKind::List(vec![
                    Form {
                        kind: FormKind::Symbol("quote".into()),
                        at,
                    },
                    quoted,
                ])
            }
            '"' => FormKind::Str(self.string()?),
            ':' => {
                self.bump();
                let name = self.token();
                if name.is_empty() {
                    return self.error(at, "a keyword needs a name after ':'");
                }
                FormKind::Keyword(name)
            }
            '#' | '@' | '`' | '~' | '^' | '\\' => {
                return self.error(at, format!("{c:?} forms are not part of the language"))
            }
            _ => {
                let token = self.token();
                atom(&token).ok_or(ReadError {
                    message: format!("{token:?} is not a number"),
                    at,
                })?
            }
        };
        Ok(Form { kind, at })
    }

    fn sequence(&mut self, close: char) -> Result<Vec<Form>, ReadError> {
        let open = self.pos;
        self.bump();
        let mut items = Vec::new();
        loop {
            self.skip_space();
            match self.peek() {
                None => {
                    return self.error(open, format!("this form is never closed with {close:?}"))
                }
                Some(c) if c == close => {
                    self.bump();
                    return Ok(items);
                }
                Some(_) => items.push(self.form()?),
            }
        }
    }

    fn string(&mut self) -> Result<String, ReadError> {
        let open = self.pos;
        self.bump();
        let mut out = String::new();
        loop {
            let at = self.pos;
            match self.bump() {
                None => return self.error(open, "this string is never closed"),
                Some('"') => return Ok(out),
                Some('\\') => out.push(match self.bump() {
                    Some('n') => '\n',
                    Some('t') => '\t',
                    Some('r') => '\r',
                    Some('"') => '"',
                    Some('\\') => '\\',
                    Some(c) => return self.error(at, format!("unknown escape \\{c}")),
                    None => return self.error(open, "this string is never closed"),
                }),
                Some(c) => out.push(c),
            }
        }
    }

    fn token(&mut self) -> String {
        let mut out = String::new();
        while let Some(c) = self.peek() {
            if is_delimiter(c) {
                break;
            }
            out.push(c);
            self.bump();
        }
        out
    }
}

fn atom(token: &str) -> Option<FormKind> {
    Some(match token {
        "nil" => FormKind::Nil,
        "true" => FormKind::Bool(true),
        "false" => FormKind::Bool(false),
        _ => {
            let body = token.strip_prefix(['-', '+']).unwrap_or(token);
            if body.starts_with(|c: char| c.is_ascii_digit()) {
                if let Ok(i) = token.parse::<i64>() {
                    FormKind::Int(i)
                } else {
                    FormKind::Float(token.parse::<f64>().ok()?)
                }
            } else {
                FormKind::Symbol(token.to_string())
            }
        }
    })
}
