/// The version of zpr, as `zpr --version` prints it: the one place it is written.
let zprVersion = "0.1.0"
