//! Stage 3, shrink: keep only the adapter functions the program can reach
//! from the imports it binds, so unused adapter code and the preview1
//! imports only it used disappear from the output.

use crate::module::Module;
use anyhow::Result;
use wasmparser::Operator;

pub struct Kept {
    /// Reached adapter functions (imports and defined), by adapter index.
    pub reached: Vec<bool>,
    /// Whether reached code uses `memory.copy` / `memory.fill`.
    pub uses_copy: bool,
    pub uses_fill: bool,
}

impl Kept {
    /// Reached defined adapter functions, in index order.
    pub fn defined<'a>(&'a self, adapter: &'a Module) -> impl Iterator<Item = u32> + 'a {
        (adapter.imports.len() as u32..self.reached.len() as u32)
            .filter(|&i| self.reached[i as usize])
    }

    pub fn any(&self) -> bool {
        self.reached.iter().any(|&r| r)
    }
}

pub fn reachable(adapter: &Module, roots: impl IntoIterator<Item = u32>) -> Result<Kept> {
    let n_imports = adapter.imports.len();
    let mut kept = Kept {
        reached: vec![false; n_imports + adapter.funcs.len()],
        uses_copy: false,
        uses_fill: false,
    };
    let mut work: Vec<u32> = roots.into_iter().collect();
    while let Some(f) = work.pop() {
        if std::mem::replace(&mut kept.reached[f as usize], true) {
            continue;
        }
        let Some(body) = (f as usize)
            .checked_sub(n_imports)
            .map(|i| &adapter.bodies[i])
        else {
            continue;
        };
        for op in body.get_operators_reader()? {
            match op? {
                Operator::Call { function_index }
                | Operator::ReturnCall { function_index }
                | Operator::RefFunc { function_index } => work.push(function_index),
                Operator::MemoryCopy { .. } => kept.uses_copy = true,
                Operator::MemoryFill { .. } => kept.uses_fill = true,
                _ => {}
            }
        }
    }
    Ok(kept)
}
