use dotdo::prelude::*;
pub struct Items;
/// Items.
impl Items {
    /// Fetch one item by id.
    async fn get_item(
        &self,
        id: u64,
        verbose: Option<bool>,
    ) -> Result<String, dotdo::Error> {
        Ok(
            ::alloc::__export::must_use({
                ::alloc::fmt::format(format_args!("{0} {1:?}", id, verbose))
            }),
        )
    }
    /// Create an item on a shelf: the shelf comes from the path (or JSON), never a body.
    async fn create_item(
        &self,
        ctx: &Context,
        shelf: u64,
        name: String,
    ) -> Result<String, dotdo::Error> {
        let _ = ctx;
        Ok(
            ::alloc::__export::must_use({
                ::alloc::fmt::format(format_args!("{0} {1}", shelf, name))
            }),
        )
    }
    async fn item_created(&self, event: String) -> Result<(), dotdo::Error> {
        let _ = event;
        Ok(())
    }
}
#[allow(clippy::let_unit_value)]
const _: () = {
    /// This function should not be called and only exists to emit a compiler warning.
    ///
    /// It is a No-OP in any case.
    #[allow(dead_code)]
    #[allow(non_camel_case_types)]
    #[allow(non_snake_case)]
    fn __dotdo_access_warning_create_item() {
        #[deprecated(
            note = "`create_item` is open to anyone over `POST /shelves/:shelf/items` but needs a signed-in caller over RPC: give every interface the same access (`auth` or `role = \"…\"`), or write `public` in the attribute of the one that is open on purpose"
        )]
        #[allow(non_upper_case_globals)]
        const _w: () = ();
        let _ = _w;
    }
};
const _: () = {
    #[allow(unused_imports)]
    use dotdo as _;
};
const _: () = {
    #[allow(
        non_snake_case,
        unused_mut,
        unused_variables,
        clippy::needless_question_mark
    )]
    fn __dotdo_invoke_get_item<'a>(
        __service: &'a Items,
        __context: &'a ::dotdo::Context,
        mut __args: ::dotdo::__private::Args<'a>,
    ) -> ::dotdo::__private::LocalBoxFuture<
        'a,
        ::dotdo::Result<::dotdo::__private::Reply>,
    > {
        ::dotdo::__private::boxed(async move {
            let id: u64 = __args.take_text_or_json("id")?;
            let verbose: Option<bool> = __args.take_text_or_json("verbose")?;
            __args.finish()?;
            <Result<
                String,
                dotdo::Error,
            > as ::dotdo::MethodOutput>::into_reply(
                <Items>::get_item(__service, id, verbose).await,
            )
        })
    }
    #[allow(
        non_snake_case,
        unused_mut,
        unused_variables,
        clippy::needless_question_mark
    )]
    fn __dotdo_invoke_create_item<'a>(
        __service: &'a Items,
        __context: &'a ::dotdo::Context,
        mut __args: ::dotdo::__private::Args<'a>,
    ) -> ::dotdo::__private::LocalBoxFuture<
        'a,
        ::dotdo::Result<::dotdo::__private::Reply>,
    > {
        ::dotdo::__private::boxed(async move {
            let shelf: u64 = __args.take_text_or_json("shelf")?;
            let name: String = __args.take("name")?;
            __args.finish()?;
            <Result<
                String,
                dotdo::Error,
            > as ::dotdo::MethodOutput>::into_reply(
                <Items>::create_item(__service, __context, shelf, name).await,
            )
        })
    }
    #[allow(
        non_snake_case,
        unused_mut,
        unused_variables,
        clippy::needless_question_mark
    )]
    fn __dotdo_invoke_item_created<'a>(
        __service: &'a Items,
        __context: &'a ::dotdo::Context,
        mut __args: ::dotdo::__private::Args<'a>,
    ) -> ::dotdo::__private::LocalBoxFuture<
        'a,
        ::dotdo::Result<::dotdo::__private::Reply>,
    > {
        ::dotdo::__private::boxed(async move {
            let event: String = __args.take_json("event")?;
            __args.finish()?;
            <Result<
                (),
                dotdo::Error,
            > as ::dotdo::MethodOutput>::into_reply(
                <Items>::item_created(__service, event).await,
            )
        })
    }
    #[allow(non_snake_case, dead_code)]
    fn __dotdo_input_schema_get_item(
        __generator: &mut ::dotdo::__private::SchemaGenerator,
    ) -> ::dotdo::__private::Schema {
        ::dotdo::__private::args_schema([
            ::dotdo::__private::ArgSchema::of::<u64>(__generator, "id"),
            ::dotdo::__private::ArgSchema::of::<Option<bool>>(__generator, "verbose"),
        ])
    }
    #[allow(non_snake_case, dead_code)]
    fn __dotdo_result_schema_get_item(
        __generator: &mut ::dotdo::__private::SchemaGenerator,
    ) -> ::core::option::Option<::dotdo::__private::Schema> {
        #[allow(unused_imports)]
        use ::dotdo::__private::{NoResultSchema as _, ResultSchema as _};
        (&&::dotdo::__private::SchemaOf::<String>::new()).result_schema(__generator)
    }
    #[allow(non_snake_case, dead_code)]
    fn __dotdo_input_schema_create_item(
        __generator: &mut ::dotdo::__private::SchemaGenerator,
    ) -> ::dotdo::__private::Schema {
        ::dotdo::__private::args_schema([
            ::dotdo::__private::ArgSchema::of::<u64>(__generator, "shelf"),
            ::dotdo::__private::ArgSchema::of::<String>(__generator, "name"),
        ])
    }
    #[allow(non_snake_case, dead_code)]
    fn __dotdo_result_schema_create_item(
        __generator: &mut ::dotdo::__private::SchemaGenerator,
    ) -> ::core::option::Option<::dotdo::__private::Schema> {
        #[allow(unused_imports)]
        use ::dotdo::__private::{NoResultSchema as _, ResultSchema as _};
        (&&::dotdo::__private::SchemaOf::<String>::new()).result_schema(__generator)
    }
    impl ::dotdo::Service for Items {
        const HAS_ROUTES: bool = true;
        const HAS_RPC: bool = true;
        const HAS_MCP: bool = true;
        const MCP_FEATURES: ::dotdo::McpFeatures = ::dotdo::McpFeatures {
            tools: true,
            resources: false,
            prompts: false,
            completions: false,
            context: false,
        };
        fn description() -> &'static ::dotdo::ServiceDescription<Self> {
            static DESCRIPTION: ::dotdo::ServiceDescription<Items> = ::dotdo::ServiceDescription::new(::dotdo::__private::DescriptionParts {
                name: "Items",
                title: "Items",
                version: "0.0.0",
                docs: "Items.",
                methods: &[
                    ::dotdo::__private::MethodDesc {
                        name: "get_item",
                        docs: "Fetch one item by id.",
                        params: &["id", "verbose"],
                        returns_unit: false,
                        takes_context: false,
                        invoke: __dotdo_invoke_get_item,
                        input_schema: ::core::option::Option::Some(
                            __dotdo_input_schema_get_item,
                        ),
                        result_schema: ::core::option::Option::Some(
                            __dotdo_result_schema_get_item,
                        ),
                    },
                    ::dotdo::__private::MethodDesc {
                        name: "create_item",
                        docs: "Create an item on a shelf: the shelf comes from the path (or JSON), never a body.",
                        params: &["shelf", "name"],
                        returns_unit: false,
                        takes_context: true,
                        invoke: __dotdo_invoke_create_item,
                        input_schema: ::core::option::Option::Some(
                            __dotdo_input_schema_create_item,
                        ),
                        result_schema: ::core::option::Option::Some(
                            __dotdo_result_schema_create_item,
                        ),
                    },
                    ::dotdo::__private::MethodDesc {
                        name: "item_created",
                        docs: "",
                        params: &["event"],
                        returns_unit: true,
                        takes_context: false,
                        invoke: __dotdo_invoke_item_created,
                        input_schema: ::core::option::Option::None,
                        result_schema: ::core::option::Option::None,
                    },
                ],
                routes: &[
                    ::dotdo::__private::RouteDesc {
                        verb: ::dotdo::__private::Verb::Get,
                        path: "/items/:id",
                        parts: &[
                            ::dotdo::__private::RoutePart::Literal("items"),
                            ::dotdo::__private::RoutePart::Param,
                        ],
                        names: &["id"],
                        method: 0usize,
                        body: ::dotdo::__private::BodyBinding::None,
                        access: ::dotdo::__private::Access::Public,
                        layer: ::core::option::Option::None,
                        status: ::core::option::Option::None,
                        extract: &[],
                    },
                    ::dotdo::__private::RouteDesc {
                        verb: ::dotdo::__private::Verb::Post,
                        path: "/shelves/:shelf/items",
                        parts: &[
                            ::dotdo::__private::RoutePart::Literal("shelves"),
                            ::dotdo::__private::RoutePart::Param,
                            ::dotdo::__private::RoutePart::Literal("items"),
                        ],
                        names: &["shelf"],
                        method: 1usize,
                        body: ::dotdo::__private::BodyBinding::Whole("name"),
                        access: ::dotdo::__private::Access::Public,
                        layer: ::core::option::Option::None,
                        status: ::core::option::Option::Some(201),
                        extract: &[],
                    },
                ],
                rpc: &[
                    ::dotdo::__private::RpcDesc {
                        name: "get_item",
                        method: 0usize,
                        access: ::dotdo::__private::Access::Public,
                    },
                    ::dotdo::__private::RpcDesc {
                        name: "create_item",
                        method: 1usize,
                        access: ::dotdo::__private::Access::Public,
                    },
                ],
                tools: &[
                    ::dotdo::__private::ToolDesc {
                        name: "get_item",
                        title: ::core::option::Option::None,
                        description: "Fetch one item by id.",
                        method: 0usize,
                        access: ::dotdo::__private::Access::Public,
                        annotations: ::dotdo::__private::ToolAnnotations {
                            read_only: ::core::option::Option::Some(true),
                            destructive: ::core::option::Option::None,
                            idempotent: ::core::option::Option::None,
                            open_world: ::core::option::Option::None,
                        },
                        input_schema: __dotdo_input_schema_get_item,
                        output_schema: ::dotdo::__private::output_schema::<
                            <Result<String, dotdo::Error> as ::dotdo::MethodOutput>::Ok,
                        >,
                    },
                ],
                resources: &[],
                prompts: &[],
                completers: &[],
                queues: &[
                    ::dotdo::__private::QueueDesc {
                        message_type: "item.created",
                        queue: ::core::option::Option::None,
                        method: 2usize,
                    },
                ],
                crons: &[],
                email: ::core::option::Option::None,
                layers: &[],
            });
            &DESCRIPTION
        }
    }
};
///Typed JSON-RPC client of [`Items`], generated by `#[dotdo::service]`.
pub struct ItemsClient<T> {
    rpc: ::dotdo::client::RpcClient<T>,
}
#[allow(clippy::too_many_arguments)]
impl<T: ::dotdo::client::Transport> ItemsClient<T> {
    /// A client that sends its calls through `transport`.
    pub fn new(transport: T) -> Self {
        ItemsClient {
            rpc: ::dotdo::client::RpcClient::new(transport),
        }
    }
    ///Fetch one item by id.
    pub async fn get_item(
        &self,
        id: u64,
        verbose: Option<bool>,
    ) -> ::dotdo::Result<String> {
        let __params = ::dotdo::__private::named_params(
            "get_item",
            [
                ("id", ::dotdo::__private::rpc_param(&id)),
                ("verbose", ::dotdo::__private::rpc_param(&verbose)),
            ],
        )?;
        self.rpc.call("get_item", &__params).await
    }
    ///Create an item on a shelf: the shelf comes from the path (or JSON), never a body.
    pub async fn create_item(
        &self,
        shelf: u64,
        name: String,
    ) -> ::dotdo::Result<String> {
        let __params = ::dotdo::__private::named_params(
            "create_item",
            [
                ("shelf", ::dotdo::__private::rpc_param(&shelf)),
                ("name", ::dotdo::__private::rpc_param(&name)),
            ],
        )?;
        self.rpc.call("create_item", &__params).await
    }
}
///Typed producer of the messages [`Items`] consumes, generated by `#[dotdo::service]`. Send through a Workers queue binding (`env.queue("…")`) or a test recorder.
pub struct ItemsQueue;
impl ItemsQueue {
    ///Sends a `item.created` message, consumed by `Items::item_created`.
    pub async fn item_created<P: ::dotdo::queue::Producer + ?::core::marker::Sized>(
        queue: &P,
        event: &String,
    ) -> ::dotdo::Result<()> {
        ::dotdo::queue::produce(queue, "item.created", event).await
    }
    ///Sends one `item.created` message per item, in as few batches as the Queues limits allow (100 messages, 256 KB), in order.
    pub async fn item_created_batch<
        P: ::dotdo::queue::Producer + ?::core::marker::Sized,
    >(queue: &P, items: &[String]) -> ::dotdo::Result<()> {
        ::dotdo::queue::produce_batch(queue, "item.created", items).await
    }
}
