// A small JSON value: enough to write report.json and read it back for
// --merge, without a dependency the BSD and macOS builds would also need.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace compare::json {

class value {
public:
    enum class type { null, boolean, number, string, array, object };

    value() = default;
    value(bool b) : type_(type::boolean), bool_(b) {}
    value(double n) : type_(type::number), number_(n) {}
    value(int n) : value(static_cast<double>(n)) {}
    value(long n) : value(static_cast<double>(n)) {}
    value(long long n) : value(static_cast<double>(n)) {}
    value(unsigned long n) : value(static_cast<double>(n)) {}
    value(unsigned long long n) : value(static_cast<double>(n)) {}
    value(std::string s) : type_(type::string), string_(std::move(s)) {}
    value(const char* s) : value(std::string(s)) {}

    static value array() { value v; v.type_ = type::array; return v; }
    static value object() { value v; v.type_ = type::object; return v; }

    type kind() const noexcept { return type_; }
    bool is_number() const noexcept { return type_ == type::number; }
    bool is_string() const noexcept { return type_ == type::string; }
    bool is_array() const noexcept { return type_ == type::array; }
    bool is_object() const noexcept { return type_ == type::object; }

    double as_number() const noexcept { return type_ == type::number ? number_ : 0; }
    bool as_bool() const noexcept { return type_ == type::boolean && bool_; }
    /// The string, or "" for anything else.
    const std::string& as_string() const noexcept;

    const std::vector<value>& items() const noexcept { return items_; }
    void push_back(value v) { items_.push_back(std::move(v)); }

    const std::vector<std::pair<std::string, value>>& members() const noexcept { return members_; }
    /// Object member, inserted (as null) if missing; keeps insertion order.
    value& operator[](std::string_view key);
    /// Object member or nullptr.
    const value* find(std::string_view key) const noexcept;

    std::string dump() const;
    /// Throws std::runtime_error naming the offset of the first error.
    static value parse(std::string_view text);

private:
    void dump_to(std::string& out, int depth) const;

    type type_ = type::null;
    bool bool_ = false;
    double number_ = 0;
    std::string string_;
    std::vector<value> items_;
    std::vector<std::pair<std::string, value>> members_;
};

}  // namespace compare::json
