// Private to common/keys: the process-wide libsecp256k1 context.
#ifndef ORRERY_COMMON_KEYS_SECP_CONTEXT_H
#define ORRERY_COMMON_KEYS_SECP_CONTEXT_H

#include <secp256k1.h>

namespace orrery::detail {

//! Created and randomized (side-channel blinding) on first use; thread-safe
//! by static initialization, and never mutated afterwards, so concurrent
//! signing and verification through it is allowed by libsecp256k1.
const secp256k1_context* Secp256k1Context();

} // namespace orrery::detail

#endif // ORRERY_COMMON_KEYS_SECP_CONTEXT_H
