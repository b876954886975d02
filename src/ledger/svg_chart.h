// Charts as SVG text: line charts of a few named series of (x, y) points on linear or
// logarithmic axes, or grouped bar charts over named categories; with ticks, labels and a
// legend. For `frugal plan --svg` and `frugal ledger report --svg`. Pure functions.
#pragma once

#include <string>
#include <vector>

namespace frugal::ledger {

struct Series {
  std::string name;
  std::vector<double> x, y;
  bool dashed = false;  // a reference line (a tier's capacity)
};

struct Chart {
  std::string title, x_label, y_label;
  bool log_x = false, log_y = false;
  std::vector<Series> series;
  // Non-empty: a bar chart; series k's y[i] is its bar over categories[i] (x is not used).
  std::vector<std::string> categories;
};

// One <svg> element of width × height holding the charts side by side.
std::string RenderSvg(const std::vector<Chart>& charts, int chart_width = 560, int chart_height = 380);
// "1.5 GB", "120 KB", "$0.03": short tick labels.
std::string ShortNumber(double v);

}  // namespace frugal::ledger
