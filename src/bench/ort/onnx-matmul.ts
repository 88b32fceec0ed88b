// A minimal ONNX model, hand-encoded as protobuf bytes: one MatMul node Z = X·Y with
// float32 inputs X [m, n] and Y [n, p] of fixed dims (ir_version 8, default-domain opset 13).
// Benchmark-only: it lets onnxruntime-web run a plain GEMM without an .onnx file on disk and
// without a protobuf dependency.
//
// Protobuf wire format used here (https://protobuf.dev/programming-guides/encoding/):
//   tag = (field_number << 3) | wire_type;  wire type 0 = varint, 2 = length-delimited.
//   Nested messages and strings are length-delimited; int64/int32/enum fields are varints.
//
// ONNX field numbers (onnx/onnx.proto3):
//   ModelProto        ir_version=1 (int64), producer_name=2, graph=7, opset_import=8
//   OperatorSetIdProto domain=1 (string), version=2 (int64)
//   GraphProto        node=1, name=2, input=11, output=12
//   NodeProto         input=1, output=2, name=3, op_type=4
//   ValueInfoProto    name=1, type=2
//   TypeProto         tensor_type=1 → TypeProto.Tensor elem_type=1 (int32), shape=2
//   TensorShapeProto  dim=1 → Dimension dim_value=1 (int64)
//   TensorProto.DataType FLOAT = 1

/** Append-only protobuf writer: varints and length-delimited fields. */
export class ProtoWriter {
  private bytes: number[] = [];

  /** Unsigned varint (non-negative safe integers; enough for ONNX dims and versions). */
  varint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`varint: bad value ${value}`);
    let v = value;
    while (v >= 0x80) {
      this.bytes.push((v % 0x80) | 0x80);
      v = Math.floor(v / 0x80);
    }
    this.bytes.push(v);
    return this;
  }

  private tag(field: number, wireType: 0 | 2): this {
    return this.varint(field * 8 + wireType);
  }

  /** Field of wire type 0 (int32, int64, enum, bool). */
  uint(field: number, value: number): this {
    return this.tag(field, 0).varint(value);
  }

  /** Field of wire type 2 carrying raw bytes (a nested message's encoding). */
  bytesField(field: number, data: Uint8Array): this {
    this.tag(field, 2).varint(data.length);
    for (const b of data) this.bytes.push(b);
    return this;
  }

  string(field: number, s: string): this {
    return this.bytesField(field, new TextEncoder().encode(s));
  }

  /** Nested message built by `build` into a fresh writer. */
  message(field: number, build: (w: ProtoWriter) => void): this {
    const inner = new ProtoWriter();
    build(inner);
    return this.bytesField(field, inner.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

const ELEM_FLOAT = 1;

function valueInfo(w: ProtoWriter, name: string, dims: readonly number[]): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.uint(1, ELEM_FLOAT).message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => dim.uint(1, d));
      }),
    ),
  );
}

/** ModelProto bytes for Z[m, p] = X[m, n] · Y[n, p] (float32, fixed shapes). */
export function matmulModel(m: number, n: number, p: number): Uint8Array {
  for (const d of [m, n, p]) {
    if (!Number.isSafeInteger(d) || d <= 0) throw new RangeError(`matmulModel: bad dim ${d}`);
  }
  return new ProtoWriter()
    .uint(1, 8) // ir_version 8
    .string(2, 'spectroscope-bench')
    .message(7, (graph) => {
      graph.message(1, (node) => node.string(1, 'X').string(1, 'Y').string(2, 'Z').string(3, 'gram').string(4, 'MatMul'));
      graph.string(2, 'matmul');
      graph.message(11, (w) => valueInfo(w, 'X', [m, n]));
      graph.message(11, (w) => valueInfo(w, 'Y', [n, p]));
      graph.message(12, (w) => valueInfo(w, 'Z', [m, p]));
    })
    .message(8, (opset) => opset.string(1, '').uint(2, 13))
    .finish();
}

/** The Gram model of the brief: Z[k, k] = X[k, n] · Y[n, k], with X = Wᵀ (or W) pre-transposed. */
export function gramModel(k: number, n: number): Uint8Array {
  return matmulModel(k, n, k);
}
