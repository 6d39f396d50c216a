//! A service written with no prelude and a renamed `dotdo`: the expansion may rely on neither.
//! (The data type lives outside the prelude-free module because schemars' derive needs one.)

#[derive(serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct Echo {
    pub text: String,
    pub times: Option<u32>,
}

pub use service::{Hygienic, HygienicClient};

#[no_implicit_prelude]
mod service {
    use super::Echo;

    pub struct Hygienic;

    /// A service whose expansion must name everything by absolute path.
    #[::renamed_dotdo::service(crate = "::renamed_dotdo")]
    impl Hygienic {
        /// Echo the text back.
        #[rpc]
        #[http(post = "/echo", public)]
        #[mcp_tool(read_only, public)]
        #[queue(type = "echo")]
        async fn echo(
            &self,
            ctx: &::renamed_dotdo::Context,
            echo: Echo,
        ) -> ::core::result::Result<Echo, ::renamed_dotdo::Error> {
            let _ = ctx.request_id();
            ::core::result::Result::Ok(echo)
        }

        /// Look one up.
        #[rpc]
        #[http(get = "/echo/:text")]
        async fn get(
            &self,
            text: ::std::string::String,
            times: ::core::option::Option<u32>,
        ) -> ::renamed_dotdo::Result<Echo> {
            ::core::result::Result::Ok(Echo { text, times })
        }
    }
}
