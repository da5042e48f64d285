//! The part of ONNX's protobuf schema (`onnx.proto`, IR version 3 and later) that the
//! importer reads; field numbers are the schema's. Fields it does not read are skipped
//! by the decoder.

use prost::Message;

/// `ModelProto`.
#[derive(Clone, PartialEq, Message)]
pub struct ModelProto {
	#[prost(message, optional, tag = "7")]
	pub graph: Option<GraphProto>,
}

/// `GraphProto`.
#[derive(Clone, PartialEq, Message)]
pub struct GraphProto {
	#[prost(message, repeated, tag = "1")]
	pub node: Vec<NodeProto>,
	#[prost(message, repeated, tag = "5")]
	pub initializer: Vec<TensorProto>,
	#[prost(message, repeated, tag = "11")]
	pub input: Vec<ValueInfoProto>,
	#[prost(message, repeated, tag = "12")]
	pub output: Vec<ValueInfoProto>,
}

/// `NodeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct NodeProto {
	#[prost(string, repeated, tag = "1")]
	pub input: Vec<String>,
	#[prost(string, repeated, tag = "2")]
	pub output: Vec<String>,
	#[prost(string, optional, tag = "3")]
	pub name: Option<String>,
	#[prost(string, optional, tag = "4")]
	pub op_type: Option<String>,
	#[prost(message, repeated, tag = "5")]
	pub attribute: Vec<AttributeProto>,
	#[prost(string, optional, tag = "7")]
	pub domain: Option<String>,
}

/// `AttributeProto` (the float, integer, string and integer-list kinds).
#[derive(Clone, PartialEq, Message)]
pub struct AttributeProto {
	#[prost(string, optional, tag = "1")]
	pub name: Option<String>,
	#[prost(float, optional, tag = "2")]
	pub f: Option<f32>,
	#[prost(int64, optional, tag = "3")]
	pub i: Option<i64>,
	#[prost(bytes = "vec", optional, tag = "4")]
	pub s: Option<Vec<u8>>,
	#[prost(int64, repeated, packed = "false", tag = "8")]
	pub ints: Vec<i64>,
}

/// `TensorProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorProto {
	#[prost(int64, repeated, tag = "1")]
	pub dims: Vec<i64>,
	#[prost(int32, optional, tag = "2")]
	pub data_type: Option<i32>,
	#[prost(float, repeated, tag = "4")]
	pub float_data: Vec<f32>,
	#[prost(string, optional, tag = "8")]
	pub name: Option<String>,
	#[prost(bytes = "vec", optional, tag = "9")]
	pub raw_data: Option<Vec<u8>>,
	#[prost(int32, optional, tag = "14")]
	pub data_location: Option<i32>,
}

/// `TensorProto.DataType.FLOAT`.
pub const FLOAT: i32 = 1;
/// `TensorProto.DataLocation.EXTERNAL`.
pub const EXTERNAL: i32 = 1;

/// `ValueInfoProto`.
#[derive(Clone, PartialEq, Message)]
pub struct ValueInfoProto {
	#[prost(string, optional, tag = "1")]
	pub name: Option<String>,
	#[prost(message, optional, tag = "2")]
	pub r#type: Option<TypeProto>,
}

/// `TypeProto` (tensor types only).
#[derive(Clone, PartialEq, Message)]
pub struct TypeProto {
	#[prost(message, optional, tag = "1")]
	pub tensor_type: Option<TensorTypeProto>,
}

/// `TypeProto.Tensor`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorTypeProto {
	#[prost(int32, optional, tag = "1")]
	pub elem_type: Option<i32>,
	#[prost(message, optional, tag = "2")]
	pub shape: Option<TensorShapeProto>,
}

/// `TensorShapeProto`.
#[derive(Clone, PartialEq, Message)]
pub struct TensorShapeProto {
	#[prost(message, repeated, tag = "1")]
	pub dim: Vec<Dimension>,
}

/// `TensorShapeProto.Dimension`: a size, or a named (symbolic) one.
#[derive(Clone, PartialEq, Message)]
pub struct Dimension {
	#[prost(int64, optional, tag = "1")]
	pub dim_value: Option<i64>,
	#[prost(string, optional, tag = "2")]
	pub dim_param: Option<String>,
}
