//! `tract-run model FILE`: writes a small ONNX model (an MLP: four 256×256
//! MatMul + Add + Relu layers) to FILE; `tract-run run FILE N`: loads it
//! with tract-onnx, optimises it, runs it N times and prints the output's
//! sum. A real inference engine, for `make bench`.

use tract_onnx::pb::{self, tensor_proto::DataType};
use tract_onnx::prelude::*;

const WIDTH: usize = 256;
const LAYERS: usize = 4;

fn tensor(name: &str, dims: &[i64], seed: u32) -> pb::TensorProto {
    let n = dims.iter().product::<i64>() as u32;
    // A deterministic spread of small weights.
    let data = (0..n)
        .map(|i| ((i.wrapping_mul(2654435761).wrapping_add(seed) >> 16) % 200) as f32 / 1000.0 - 0.1)
        .collect();
    pb::TensorProto {
        name: name.into(),
        dims: dims.to_vec(),
        data_type: DataType::Float as i32,
        float_data: data,
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        name: output.into(),
        ..Default::default()
    }
}

/// A float tensor of shape `[1, WIDTH]`, named `name`.
fn value(name: &str) -> pb::ValueInfoProto {
    use pb::tensor_shape_proto::{dimension::Value, Dimension};
    let dim = |d: i64| Dimension { value: Some(Value::DimValue(d)), ..Default::default() };
    pb::ValueInfoProto {
        name: name.into(),
        r#type: Some(pb::TypeProto {
            value: Some(pb::type_proto::Value::TensorType(pb::type_proto::Tensor {
                elem_type: DataType::Float as i32,
                shape: Some(pb::TensorShapeProto { dim: vec![dim(1), dim(WIDTH as i64)] }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn model() -> pb::ModelProto {
    let mut graph = pb::GraphProto {
        name: "mlp".into(),
        input: vec![value("x")],
        ..Default::default()
    };
    let mut prev = "x".to_string();
    for l in 0..LAYERS {
        let (w, b) = (format!("w{l}"), format!("b{l}"));
        graph.initializer.push(tensor(&w, &[WIDTH as i64, WIDTH as i64], l as u32));
        graph.initializer.push(tensor(&b, &[WIDTH as i64], 100 + l as u32));
        let (m, a, r) = (format!("m{l}"), format!("a{l}"), format!("r{l}"));
        graph.node.push(node("MatMul", &[&prev, &w], &m));
        graph.node.push(node("Add", &[&m, &b], &a));
        graph.node.push(node("Relu", &[&a], &r));
        prev = r;
    }
    graph.output.push(value(&prev));
    pb::ModelProto {
        ir_version: 7,
        opset_import: vec![pb::OperatorSetIdProto { version: 13, ..Default::default() }],
        producer_name: "tract-run".into(),
        graph: Some(graph),
        ..Default::default()
    }
}

fn main() -> TractResult<()> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("model") => {
            let bytes = prost::Message::encode_to_vec(&model());
            std::fs::write(&args[2], bytes)?;
        }
        Some("run") => {
            let n: usize = args[3].parse()?;
            let plan = tract_onnx::onnx()
                .model_for_path(&args[2])?
                .with_input_fact(0, f32::fact([1, WIDTH]).into())?
                .into_optimized()?
                .into_runnable()?;
            let mut sum = 0.0f64;
            for i in 0..n {
                let x = tract_ndarray::Array2::from_shape_fn((1, WIDTH), |(_, j)| ((i + j) % 7) as f32 / 7.0);
                let y = plan.run(tvec!(Tensor::from(x).into()))?;
                sum += y[0].to_plain_array_view::<f32>()?.iter().map(|&v| v as f64).sum::<f64>();
            }
            println!("{sum:.4}");
        }
        _ => return Err(anyhow::anyhow!("tract-run model FILE | tract-run run FILE N").into()),
    }
    Ok(())
}
