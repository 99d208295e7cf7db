//! The built-in functions, shared by every projection of the machine.

use super::value::{Prim, Value};

/// Applies `prim` to `args`; an error message on a wrong type or count.
pub fn apply(prim: Prim, args: &[Value]) -> Result<Value, String> {
    use Value::{Bool, Float, Int, Map, Nil, Str, Vector};
    let arity = |min: usize, max: usize| -> Result<(), String> {
        if args.len() < min || args.len() > max {
            Err(format!(
                "{} takes {} argument{}, not {}",
                prim.name(),
                if min == max {
                    min.to_string()
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                },
                if max == 1 { "" } else { "s" },
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    Ok(match prim {
        Prim::Add => fold(prim, args, Int(0), |a, b| a.checked_add(b), |a, b| a + b)?,
        Prim::Mul => fold(prim, args, Int(1), |a, b| a.checked_mul(b), |a, b| a * b)?,
        Prim::Sub => {
            arity(1, usize::MAX)?;
            if args.len() == 1 {
                fold(
                    prim,
                    &[Int(0), args[0].clone()],
                    Int(0),
                    i64::checked_sub,
                    |a, b| a - b,
                )?
            } else {
                fold(
                    prim,
                    &args[1..],
                    args[0].clone(),
                    i64::checked_sub,
                    |a, b| a - b,
                )?
            }
        }
        Prim::Div => {
            arity(1, usize::MAX)?;
            let (first, rest) = if args.len() == 1 {
                (Int(1), args)
            } else {
                (args[0].clone(), &args[1..])
            };
            let mut acc = first;
            for arg in rest {
                acc = divide(&acc, arg)?;
            }
            acc
        }
        Prim::Mod => {
            arity(2, 2)?;
            match (&args[0], &args[1]) {
                (Int(_), Int(0)) => return Err("mod: division by zero".into()),
                (Int(a), Int(b)) => Int(a.rem_euclid(*b)),
                (a, b) => {
                    let (a, b) = (number(prim, a)?, number(prim, b)?);
                    Float(a - b * (a / b).floor())
                }
            }
        }
        Prim::Inc | Prim::Dec => {
            arity(1, 1)?;
            let step = if prim == Prim::Inc { 1 } else { -1 };
            match &args[0] {
                Int(i) => Int(i
                    .checked_add(step)
                    .ok_or_else(|| format!("{}: integer overflow", prim.name()))?),
                other => Float(number(prim, other)? + step as f64),
            }
        }
        Prim::Lt | Prim::Le | Prim::Gt | Prim::Ge | Prim::NumEq => {
            arity(1, usize::MAX)?;
            for pair in args.windows(2) {
                let (a, b) = (&pair[0], &pair[1]);
                let holds = match (a, b) {
                    (Int(x), Int(y)) => compare(prim, x.cmp(y)),
                    _ => {
                        let (x, y) = (number(prim, a)?, number(prim, b)?);
                        match x.partial_cmp(&y) {
                            Some(order) => compare(prim, order),
                            None => false,
                        }
                    }
                };
                if !holds {
                    // The rest must still be numbers.
                    for arg in args {
                        number(prim, arg)?;
                    }
                    return Ok(Bool(false));
                }
            }
            if args.len() == 1 {
                number(prim, &args[0])?;
            }
            Bool(true)
        }
        Prim::Eq => {
            arity(1, usize::MAX)?;
            Bool(args.windows(2).all(|p| p[0] == p[1]))
        }
        Prim::NotEq => {
            arity(1, usize::MAX)?;
            Bool(!args.windows(2).all(|p| p[0] == p[1]))
        }
        Prim::Not => {
            arity(1, 1)?;
            Bool(!args[0].truthy())
        }
        Prim::IsNil => {
            arity(1, 1)?;
            Bool(matches!(args[0], Nil))
        }
        Prim::IsZero => {
            arity(1, 1)?;
            Bool(number(prim, &args[0])? == 0.0)
        }
        Prim::IsEmpty => {
            arity(1, 1)?;
            Bool(count(prim, &args[0])? == 0)
        }
        Prim::Vector | Prim::List => Vector(args.iter().cloned().collect()),
        Prim::HashMap => {
            if args.len() % 2 != 0 {
                return Err("hash-map takes keys and values in pairs".into());
            }
            Map(args
                .chunks(2)
                .map(|kv| (kv[0].clone(), kv[1].clone()))
                .collect())
        }
        Prim::Get => {
            arity(2, 3)?;
            let missing = args.get(2).cloned().unwrap_or(Nil);
            match (&args[0], &args[1]) {
                (Map(m), k) => m.get(k).cloned().unwrap_or(missing),
                (Vector(v), Int(i)) => usize::try_from(*i)
                    .ok()
                    .and_then(|i| v.get(i).cloned())
                    .unwrap_or(missing),
                (Nil, _) | (Vector(_), _) => missing,
                (other, _) => return Err(format!("get: cannot look into a {}", other.type_name())),
            }
        }
        Prim::Assoc => {
            if args.len() < 3 || args.len() % 2 == 0 {
                return Err("assoc takes a collection and keys and values in pairs".into());
            }
            let mut coll = args[0].clone();
            for kv in args[1..].chunks(2) {
                coll = match &mut coll {
                    Nil => Map(im::OrdMap::unit(kv[0].clone(), kv[1].clone())),
                    Map(m) => Map(std::mem::take(m).update(kv[0].clone(), kv[1].clone())),
                    Vector(v) => match &kv[0] {
                        Int(i) if (0..=v.len() as i64).contains(i) => {
                            let mut v = std::mem::take(v);
                            if *i as usize == v.len() {
                                v.push_back(kv[1].clone());
                            } else {
                                v.set(*i as usize, kv[1].clone());
                            }
                            Vector(v)
                        }
                        k => return Err(format!("assoc: index {k} is outside the vector")),
                    },
                    other => {
                        return Err(format!("assoc: cannot assoc into a {}", other.type_name()))
                    }
                };
            }
            coll
        }
        Prim::Count => {
            arity(1, 1)?;
            Int(count(prim, &args[0])? as i64)
        }
        Prim::First => {
            arity(1, 1)?;
            match &args[0] {
                Nil => Nil,
                Vector(v) => v.front().cloned().unwrap_or(Nil),
                Map(m) => m
                    .get_min()
                    .map(|(k, v)| Vector(im::vector![k.clone(), v.clone()]))
                    .unwrap_or(Nil),
                Str(s) => s.chars().next().map_or(Nil, |c| Value::str(&c.to_string())),
                other => {
                    return Err(format!(
                        "first: a {} is not a collection",
                        other.type_name()
                    ))
                }
            }
        }
        Prim::Rest => {
            arity(1, 1)?;
            match &args[0] {
                Nil => Vector(im::Vector::new()),
                Vector(v) => Vector(if v.is_empty() { v.clone() } else { v.skip(1) }),
                Map(m) => Vector(
                    m.iter()
                        .skip(1)
                        .map(|(k, v)| Vector(im::vector![k.clone(), v.clone()]))
                        .collect(),
                ),
                other => return Err(format!("rest: a {} is not a collection", other.type_name())),
            }
        }
        Prim::Nth => {
            arity(2, 3)?;
            match (&args[0], &args[1]) {
                (Vector(v), Int(i)) => match usize::try_from(*i).ok().and_then(|i| v.get(i)) {
                    Some(x) => x.clone(),
                    None if args.len() == 3 => args[2].clone(),
                    None => {
                        return Err(format!("nth: index {i} is outside a vector of {}", v.len()))
                    }
                },
                (coll, i) => {
                    return Err(format!(
                        "nth takes a vector and a long, not a {} and a {}",
                        coll.type_name(),
                        i.type_name()
                    ))
                }
            }
        }
        Prim::Cons => {
            arity(2, 2)?;
            match &args[1] {
                Nil => Vector(im::vector![args[0].clone()]),
                Vector(v) => {
                    let mut v = v.clone();
                    v.push_front(args[0].clone());
                    Vector(v)
                }
                other => return Err(format!("cons: a {} is not a sequence", other.type_name())),
            }
        }
        Prim::Conj => {
            arity(1, usize::MAX)?;
            let mut coll = args[0].clone();
            for x in &args[1..] {
                coll = match (&mut coll, x) {
                    (Nil, x) => Vector(im::vector![x.clone()]),
                    (Vector(v), x) => {
                        let mut v = std::mem::take(v);
                        v.push_back(x.clone());
                        Vector(v)
                    }
                    (Map(m), Vector(kv)) if kv.len() == 2 => {
                        Map(std::mem::take(m).update(kv[0].clone(), kv[1].clone()))
                    }
                    (other, _) => {
                        return Err(format!("conj: cannot add to a {}", other.type_name()))
                    }
                };
            }
            coll
        }
        Prim::Str => {
            let mut out = String::new();
            for arg in args {
                match arg {
                    Nil => {}
                    Str(s) => out.push_str(s),
                    other => out.push_str(&other.to_edn()),
                }
            }
            Value::str(&out)
        }
    })
}

fn compare(prim: Prim, order: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match prim {
        Prim::Lt => order == Less,
        Prim::Le => order != Greater,
        Prim::Gt => order == Greater,
        Prim::Ge => order != Less,
        _ => order == Equal,
    }
}

fn number(prim: Prim, v: &Value) -> Result<f64, String> {
    match v {
        Value::Int(i) => Ok(*i as f64),
        Value::Float(f) => Ok(*f),
        other => Err(format!("{}: {} is not a number", prim.name(), other)),
    }
}

fn count(prim: Prim, v: &Value) -> Result<usize, String> {
    Ok(match v {
        Value::Nil => 0,
        Value::Vector(v) => v.len(),
        Value::Map(m) => m.len(),
        Value::Str(s) => s.chars().count(),
        other => {
            return Err(format!(
                "{}: a {} has no count",
                prim.name(),
                other.type_name()
            ))
        }
    })
}

/// Folds numbers left to right, in longs while every operand is a long and nothing
/// overflows (an overflow is an error, as in Clojure), in doubles otherwise.
fn fold(
    prim: Prim,
    args: &[Value],
    init: Value,
    ints: impl Fn(i64, i64) -> Option<i64>,
    floats: impl Fn(f64, f64) -> f64,
) -> Result<Value, String> {
    let mut acc = init;
    for arg in args {
        acc = match (&acc, arg) {
            (Value::Int(a), Value::Int(b)) => Value::Int(
                ints(*a, *b).ok_or_else(|| format!("{}: integer overflow", prim.name()))?,
            ),
            (a, b) => Value::Float(floats(number(prim, a)?, number(prim, b)?)),
        };
    }
    Ok(acc)
}

fn divide(a: &Value, b: &Value) -> Result<Value, String> {
    match (a, b) {
        (_, Value::Int(0)) => Err("/: division by zero".into()),
        (Value::Int(x), Value::Int(y)) if x % y == 0 => Ok(Value::Int(x / y)),
        _ => Ok(Value::Float(number(Prim::Div, a)? / number(Prim::Div, b)?)),
    }
}
