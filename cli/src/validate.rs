//! Validation as `wasmparser::Validator::validate_all` does it, but with the
//! function bodies checked on every core: a big program is mostly code, and
//! its input and output are both validated. Validating the input also scans
//! its bodies (`scan`), in the same pass over the code.

use crate::scan::{key, FuncScan, Known};
use wasmparser::{
    BinaryReaderError, FuncToValidate, FuncValidator, FuncValidatorAllocations, FunctionBody,
    Parser, ValidPayload, Validator, ValidatorResources, WasmFeatures,
};

type Func<'a> = (FuncToValidate<ValidatorResources>, FunctionBody<'a>);

/// Validates `bytes` with `features`; the error is the first (by offset) a
/// sequential validation would find among the bodies' errors.
pub fn validate(features: WasmFeatures, bytes: &[u8]) -> Result<(), BinaryReaderError> {
    validate_and_scan(features, bytes, false).map(drop)
}

/// [`validate`], returning the scan of every body when `scan` is set.
pub fn validate_and_scan(
    features: WasmFeatures,
    bytes: &[u8],
    scan: bool,
) -> Result<Known, BinaryReaderError> {
    let mut v = Validator::new_with_features(features);
    let mut funcs: Vec<Func> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        if let ValidPayload::Func(f, body) = v.payload(&payload?)? {
            funcs.push((f, body));
        }
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let size: usize = funcs.iter().map(|(_, b)| b.as_bytes().len()).sum();
    if threads == 1 || size < 1 << 20 {
        return bodies(funcs, scan);
    }
    // Chunks of about equal code size, one a thread, in order.
    let mut chunks: Vec<Vec<Func>> = vec![Vec::new()];
    let mut in_chunk = 0;
    for f in funcs {
        in_chunk += f.1.as_bytes().len();
        chunks.last_mut().unwrap().push(f);
        if in_chunk >= size / threads && chunks.len() < threads {
            chunks.push(Vec::new());
            in_chunk = 0;
        }
    }
    let results: Vec<Result<Known, BinaryReaderError>> = std::thread::scope(|s| {
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| s.spawn(move || bodies(chunk, scan)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a validating thread panicked"))
            .collect()
    });
    let mut all = Known::new();
    for r in results {
        all.extend(r?);
    }
    Ok(all)
}

fn bodies(funcs: Vec<Func>, scan: bool) -> Result<Known, BinaryReaderError> {
    let mut allocs = FuncValidatorAllocations::default();
    let mut scans = Known::new();
    for (f, body) in funcs {
        let mut v = f.into_validator(allocs);
        if scan {
            scans.insert(key(&body), validate_body(&mut v, &body)?);
        } else {
            v.validate(&body)?;
        }
        allocs = v.into_allocations();
    }
    Ok(scans)
}

/// `FuncValidator::validate`, noting each instruction in a scan on the way.
fn validate_body(
    v: &mut FuncValidator<ValidatorResources>,
    body: &FunctionBody,
) -> Result<FuncScan, BinaryReaderError> {
    let (code, base) = (body.as_bytes(), body.range().start);
    let mut s = FuncScan::default();
    let mut reader = body.get_binary_reader();
    v.read_locals(&mut reader)?;
    reader.set_features(*v.features());
    while !reader.eof() {
        let at = reader.original_position();
        reader.visit_operator(&mut v.visitor(at))??;
        s.op(code, (at - base) as usize, at)?;
    }
    reader.finish_expression(&v.visitor(reader.original_position()))?;
    Ok(s)
}
