//! Calls any RPC of the descriptor set with a [`DynamicMessage`]: the access matrix walks
//! every method without a hand-written client call per method.

use std::{collections::BTreeMap, str::FromStr};

use inburgering_testkit::TestApp;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor, MethodDescriptor};
use tonic::{
    Request, Status,
    codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder},
    codegen::http::uri::PathAndQuery,
    transport::Channel,
};

/// Every RPC the platform serves, from the descriptor set the servers are built from.
pub fn methods() -> Vec<MethodDescriptor> {
    let pool = DescriptorPool::decode(proto::FILE_DESCRIPTOR_SET).expect("the descriptor set");
    pool.services()
        .filter(|s| s.full_name().starts_with("inburgering."))
        .flat_map(|s| s.methods().collect::<Vec<_>>())
        .collect()
}

/// `package.Service/Method`, the matrix's key.
pub fn rpc_name(method: &MethodDescriptor) -> String {
    format!("{}/{}", method.parent_service().full_name(), method.name())
}

/// One channel per service, keyed by the service's package.
#[derive(Clone)]
pub struct Channels(BTreeMap<&'static str, Channel>);

impl Channels {
    pub async fn of(app: &TestApp) -> Self {
        let mut map = BTreeMap::new();
        for (package, addr) in [
            ("inburgering.trajectories.v1", app.trajectories_addr),
            ("inburgering.testing.v1", app.testing_addr),
            ("inburgering.municipalities.v1", app.municipalities_addr),
            ("inburgering.ceremonies.v1", app.ceremonies_addr),
            ("inburgering.recruitment.v1", app.recruitment_addr),
            ("inburgering.interpreting.v1", app.interpreting_addr),
        ] {
            let channel = Channel::from_shared(format!("http://{addr}"))
                .expect("an address is a URI")
                .connect()
                .await
                .unwrap_or_else(|e| panic!("{package} answers: {e}"));
            map.insert(package, channel);
        }
        Self(map)
    }

    /// Calls `method` with `message` and, when given, a bearer token.
    pub async fn call(
        &self,
        method: &MethodDescriptor,
        message: DynamicMessage,
        token: Option<&str>,
    ) -> Result<DynamicMessage, Status> {
        let package = method.parent_service().package_name().to_owned();
        let channel = self
            .0
            .get(package.as_str())
            .unwrap_or_else(|| panic!("no server for package {package}"))
            .clone();
        let mut grpc = tonic::client::Grpc::new(channel);
        grpc.ready()
            .await
            .map_err(|e| Status::unavailable(e.to_string()))?;
        let mut request = Request::new(message);
        if let Some(token) = token {
            request.metadata_mut().insert(
                "authorization",
                format!("Bearer {token}")
                    .parse()
                    .expect("a JWT is metadata"),
            );
        }
        let path = PathAndQuery::from_str(&format!("/{}", rpc_name(method))).expect("a path");
        let codec = DynamicCodec(method.output());
        grpc.unary(request, path, codec)
            .await
            .map(tonic::Response::into_inner)
    }
}

/// Encodes any message, decodes the method's output type.
struct DynamicCodec(MessageDescriptor);

impl Codec for DynamicCodec {
    type Encode = DynamicMessage;
    type Decode = DynamicMessage;
    type Encoder = DynamicEncoder;
    type Decoder = DynamicDecoder;

    fn encoder(&mut self) -> Self::Encoder {
        DynamicEncoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        DynamicDecoder(self.0.clone())
    }
}

struct DynamicEncoder;

impl Encoder for DynamicEncoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn encode(&mut self, item: Self::Item, dst: &mut EncodeBuf<'_>) -> Result<(), Self::Error> {
        item.encode(dst)
            .map_err(|e| Status::internal(format!("encoding: {e}")))
    }
}

struct DynamicDecoder(MessageDescriptor);

impl Decoder for DynamicDecoder {
    type Item = DynamicMessage;
    type Error = Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Self::Item>, Self::Error> {
        DynamicMessage::decode(self.0.clone(), src)
            .map(Some)
            .map_err(|e| Status::internal(format!("decoding: {e}")))
    }
}
