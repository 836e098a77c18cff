// Windows hands a program one command line, which its C runtime splits into
// argv again. quote_argument() spells one argument so that the split gives
// it back unchanged: quoted when it holds a blank or a quote, backslashes
// doubled only before a quote. Used by plot.cpp and first_poller.cpp.
#pragma once

#include <cstddef>
#include <string>

namespace compare {

inline std::string quote_argument(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) return arg;
    std::string q = "\"";
    std::size_t backslashes = 0;
    for (const char c : arg) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        q.append(c == '"' ? backslashes * 2 + 1 : backslashes, '\\');
        backslashes = 0;
        q += c;
    }
    q.append(backslashes * 2, '\\');
    return q + '"';
}

}  // namespace compare
