// Drawing report.png with tools/plot_report.py (matplotlib). A missing
// Python or matplotlib only costs the picture, never the run.
#pragma once

#include <string>

namespace compare {

struct plot_outcome {
    bool drawn = false;
    std::string note;  // why not, or which interpreter drew it
};

/// Runs the script installed next to this executable on `json_path`,
/// writing `png_path`. `python` = "" tries $UNIPOLL_COMPARE_PYTHON,
/// python3, then the system's /usr/bin/python3 (where Debian's
/// python3-matplotlib lives when another python3 comes first in PATH).
plot_outcome draw_picture(const std::string& argv0, const std::string& python,
                          const std::string& json_path, const std::string& png_path);

}  // namespace compare
