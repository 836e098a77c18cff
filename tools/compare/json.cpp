#include "json.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace compare::json {

const std::string& value::as_string() const noexcept {
    static const std::string empty;
    return type_ == type::string ? string_ : empty;
}

value& value::operator[](std::string_view key) {
    if (type_ == type::null) type_ = type::object;
    for (auto& [k, v] : members_)
        if (k == key) return v;
    members_.emplace_back(std::string(key), value());
    return members_.back().second;
}

const value* value::find(std::string_view key) const noexcept {
    for (const auto& [k, v] : members_)
        if (k == key) return &v;
    return nullptr;
}

namespace {

void dump_string(std::string& out, const std::string& s) {
    out += '"';
    for (const char c : s) {
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            case '\r': out += "\\r"; break;
            default:
                if (static_cast<unsigned char>(c) < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(c));
                    out += buf;
                } else {
                    out += c;
                }
        }
    }
    out += '"';
}

void dump_number(std::string& out, double n) {
    if (!std::isfinite(n)) {
        out += "null";
        return;
    }
    char buf[32];
    if (n == std::floor(n) && std::fabs(n) < 9.0e15)
        std::snprintf(buf, sizeof buf, "%.0f", n);
    else
        std::snprintf(buf, sizeof buf, "%.10g", n);
    out += buf;
}

}  // namespace

void value::dump_to(std::string& out, int depth) const {
    const std::string indent(static_cast<std::size_t>(depth + 1) * 2, ' ');
    const std::string close(static_cast<std::size_t>(depth) * 2, ' ');
    switch (type_) {
        case type::null: out += "null"; break;
        case type::boolean: out += bool_ ? "true" : "false"; break;
        case type::number: dump_number(out, number_); break;
        case type::string: dump_string(out, string_); break;
        case type::array: {
            // Arrays of numbers stay on one line: quantile curves are long.
            bool flat = true;
            for (const auto& v : items_) flat = flat && v.type_ == type::number;
            out += '[';
            for (std::size_t i = 0; i < items_.size(); ++i) {
                if (i) out += flat ? ", " : ",";
                if (!flat) out += "\n" + indent;
                items_[i].dump_to(out, depth + 1);
            }
            if (!flat && !items_.empty()) out += "\n" + close;
            out += ']';
            break;
        }
        case type::object:
            out += '{';
            for (std::size_t i = 0; i < members_.size(); ++i) {
                out += i ? ",\n" : "\n";
                out += indent;
                dump_string(out, members_[i].first);
                out += ": ";
                members_[i].second.dump_to(out, depth + 1);
            }
            if (!members_.empty()) out += "\n" + close;
            out += '}';
            break;
    }
}

std::string value::dump() const {
    std::string out;
    dump_to(out, 0);
    out += '\n';
    return out;
}

namespace {

class parser {
public:
    explicit parser(std::string_view text) : text_(text) {}

    value document() {
        value v = parse_value();
        skip_space();
        if (pos_ != text_.size()) fail("trailing characters");
        return v;
    }

private:
    [[noreturn]] void fail(const char* what) const {
        throw std::runtime_error("JSON: " + std::string(what) + " at offset " + std::to_string(pos_));
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\t' || text_[pos_] == '\r'))
            ++pos_;
    }

    bool consume(std::string_view word) {
        if (text_.substr(pos_, word.size()) != word) return false;
        pos_ += word.size();
        return true;
    }

    value parse_value() {
        skip_space();
        if (pos_ >= text_.size()) fail("unexpected end");
        const char c = text_[pos_];
        if (c == '{') return parse_object();
        if (c == '[') return parse_array();
        if (c == '"') return value(parse_string());
        if (consume("true")) return value(true);
        if (consume("false")) return value(false);
        if (consume("null")) return value();
        return parse_number();
    }

    value parse_number() {
        const std::string rest(text_.substr(pos_, 64));
        char* end = nullptr;
        const double n = std::strtod(rest.c_str(), &end);
        if (end == rest.c_str()) fail("expected a value");
        pos_ += static_cast<std::size_t>(end - rest.c_str());
        return value(n);
    }

    std::string parse_string() {
        ++pos_;  // opening quote
        std::string s;
        while (pos_ < text_.size() && text_[pos_] != '"') {
            char c = text_[pos_++];
            if (c == '\\') {
                if (pos_ >= text_.size()) break;
                c = text_[pos_++];
                switch (c) {
                    case 'n': s += '\n'; break;
                    case 't': s += '\t'; break;
                    case 'r': s += '\r'; break;
                    case 'b': s += '\b'; break;
                    case 'f': s += '\f'; break;
                    case 'u': {
                        if (pos_ + 4 > text_.size()) fail("short \\u escape");
                        const auto code = std::strtoul(std::string(text_.substr(pos_, 4)).c_str(), nullptr, 16);
                        pos_ += 4;
                        // Reports hold ASCII; anything else becomes '?'.
                        s += code < 0x80 ? static_cast<char>(code) : '?';
                        break;
                    }
                    default: s += c;
                }
            } else {
                s += c;
            }
        }
        if (pos_ >= text_.size()) fail("unterminated string");
        ++pos_;
        return s;
    }

    value parse_array() {
        ++pos_;
        value v = value::array();
        skip_space();
        if (consume("]")) return v;
        for (;;) {
            v.push_back(parse_value());
            skip_space();
            if (consume("]")) return v;
            if (!consume(",")) fail("expected ',' or ']'");
        }
    }

    value parse_object() {
        ++pos_;
        value v = value::object();
        skip_space();
        if (consume("}")) return v;
        for (;;) {
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != '"') fail("expected a member name");
            std::string key = parse_string();
            skip_space();
            if (!consume(":")) fail("expected ':'");
            v[key] = parse_value();
            skip_space();
            if (consume("}")) return v;
            if (!consume(",")) fail("expected ',' or '}'");
        }
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

}  // namespace

value value::parse(std::string_view text) { return parser(text).document(); }

}  // namespace compare::json
