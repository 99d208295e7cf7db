use super::*;
use crate::Slab;

fn both(source: &str) -> Value {
    let slab = Slab::anonymous().unwrap();
    let yin = Yin::open(&slab, "yin").unwrap();
    let program = yin.compile(source).unwrap();
    let mut results = Vec::new();
    for projection in [Projection::Walker, Projection::Stack] {
        match yin.run(program, projection).unwrap().outcome {
            RunOutcome::Done(v) => results.push(v),
            other => panic!("{source}: {other:?}"),
        }
    }
    assert_eq!(results[0], results[1], "{source}: the projections disagree");
    results.pop().unwrap()
}

#[test]
fn acceptance_programs() {
    assert_eq!(both("(+ 2 3)"), Value::Int(5));
    assert_eq!(both("(if (< 10 5) 1 20)"), Value::Int(20));
    assert_eq!(both("((fn [x] (* x x)) 7)"), Value::Int(49));
    assert_eq!(both("(((fn [x] (fn [y] (+ x y))) 10) 5)"), Value::Int(15));
    assert_eq!(
        both("(defn fact [n] (if (< n 2) 1 (* n (fact (- n 1))))) (fact 5)"),
        Value::Int(120)
    );
}
