// report.json: everything needed to redraw the tables and the picture, and
// to merge runs from several machines.
#include "json.hpp"
#include "report.hpp"

#include <stdexcept>

namespace compare {

namespace {

constexpr int format_version = 2;  // 2: runs, spread, sizes, echo

json::value strings(const std::vector<std::string>& v) {
    json::value a = json::value::array();
    for (const auto& s : v) a.push_back(s);
    return a;
}

}  // namespace

std::string to_json(const report& rep) {
    json::value root = json::value::object();
    root["tool"] = "unipoll-compare";
    root["format"] = format_version;
    for (const auto& [k, v] : rep.info) root["info"][k] = v;
    json::value subjects = json::value::array();
    for (const auto& s : rep.subjects) {
        json::value o = json::value::object();
        o["name"] = s.name;
        o["kind"] = s.kind;
        o["version"] = s.version;
        o["detail"] = s.detail;
        o["mechanism"] = s.mechanism;
        o["fds_detail"] = s.fds_detail;
        o["echo_detail"] = s.echo_detail;
        subjects.push_back(std::move(o));
    }
    root["subjects"] = std::move(subjects);
    for (const auto& [k, v] : rep.sizes) {
        json::value a = json::value::array();
        for (double x : v) a.push_back(x);
        root["sizes"][k] = std::move(a);
    }
    json::value records = json::value::array();
    for (const auto& r : rep.records) {
        json::value o = json::value::object();
        o["scenario"] = r.scenario;
        o["subject"] = r.subject;
        o["kind"] = r.kind;
        if (!r.machine.empty()) o["machine"] = r.machine;
        o["syscalls_source"] = r.syscalls_source;
        json::value values = json::value::object();
        for (const auto& [k, v] : r.values) values[k] = v;
        o["values"] = std::move(values);
        if (!r.spread.empty()) {
            json::value spread = json::value::object();
            for (const auto& [k, range] : r.spread) {
                json::value pair = json::value::array();
                pair.push_back(range.first);
                pair.push_back(range.second);
                spread[k] = std::move(pair);
            }
            o["spread"] = std::move(spread);
        }
        if (!r.curve.empty()) {
            json::value curve = json::value::array();
            for (double v : r.curve) curve.push_back(v);
            o["percentiles_ns"] = std::move(curve);
        }
        if (!r.note.empty()) o["note"] = r.note;
        records.push_back(std::move(o));
    }
    root["records"] = std::move(records);
    json::value goals = json::value::array();
    for (const auto& g : rep.goals) {
        json::value o = json::value::object();
        o["goal"] = g.text;
        o["subject"] = g.subject;
        o["evidence"] = g.evidence;
        o["met"] = g.met ? json::value(*g.met) : json::value();
        goals.push_back(std::move(o));
    }
    root["goals"] = std::move(goals);
    root["notes"] = strings(rep.notes);
    for (const auto& [scen, why] : rep.not_built) root["not_built"][scen] = why;
    root["picture"] = rep.picture;
    root["picture_note"] = rep.picture_note;
    return root.dump();
}

report from_json(const std::string& text) {
    const json::value root = json::value::parse(text);
    const json::value* tool = root.find("tool");
    if (!tool || tool->as_string() != "unipoll-compare")
        throw std::runtime_error("not a unipoll-compare report (no \"tool\": \"unipoll-compare\")");
    report rep;
    if (const auto* info = root.find("info"))
        for (const auto& [k, v] : info->members()) rep.info.emplace_back(k, v.as_string());
    if (const auto* subjects = root.find("subjects"))
        for (const auto& s : subjects->items()) {
            auto field = [&](const char* key) {
                const auto* v = s.find(key);
                return v ? v->as_string() : std::string();
            };
            rep.subjects.push_back({field("name"), field("kind"), field("version"), field("detail"),
                                    field("mechanism"), field("fds_detail"), field("echo_detail")});
        }
    if (const auto* sizes = root.find("sizes"))
        for (const auto& [k, v] : sizes->members()) {
            std::vector<double> xs;
            for (const auto& x : v.items()) xs.push_back(x.as_number());
            rep.sizes.emplace_back(k, std::move(xs));
        }
    if (const auto* records = root.find("records"))
        for (const auto& o : records->items()) {
            record r;
            auto field = [&](const char* key) {
                const auto* v = o.find(key);
                return v ? v->as_string() : std::string();
            };
            r.scenario = field("scenario");
            r.subject = field("subject");
            r.kind = field("kind");
            r.machine = field("machine");
            r.syscalls_source = field("syscalls_source");
            r.note = field("note");
            if (const auto* values = o.find("values"))
                for (const auto& [k, v] : values->members())
                    if (v.is_number()) r.values[k] = v.as_number();
            if (const auto* spread = o.find("spread"))
                for (const auto& [k, v] : spread->members())
                    if (v.items().size() == 2) r.spread[k] = {v.items()[0].as_number(), v.items()[1].as_number()};
            if (const auto* curve = o.find("percentiles_ns"))
                for (const auto& v : curve->items()) r.curve.push_back(v.as_number());
            rep.records.push_back(std::move(r));
        }
    if (const auto* notes = root.find("notes"))
        for (const auto& n : notes->items()) rep.notes.push_back(n.as_string());
    if (const auto* not_built = root.find("not_built"))
        for (const auto& [k, v] : not_built->members()) rep.not_built.emplace_back(k, v.as_string());
    if (const auto* p = root.find("picture")) rep.picture = p->as_string();
    return rep;
}

}  // namespace compare
