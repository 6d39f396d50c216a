#[dotdo::service(entry = true)]
impl Svc {}

struct Svc;

fn main() {}
