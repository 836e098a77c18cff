// Tests only: reach a poller's backend, e.g. to push its wake primitive to
// the overflow edge. Not installed.
#pragma once

#include "poller_core.hpp"

namespace unipoll::detail {

struct testing_access {
    static backend_impl& impl(poller& p) { return p.core_->impl(); }
};

}  // namespace unipoll::detail
