#[dotdo::service]
struct Svc;

trait T {}

#[dotdo::service]
impl T for Svc {}

fn main() {}
