// Line charts as SVG text: a few named series of (x, y) points on linear or logarithmic axes,
// with ticks, labels and a legend. For `frugal plan --svg`. Pure functions.
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
};

// One <svg> element of width × height holding the charts side by side.
std::string RenderSvg(const std::vector<Chart>& charts, int chart_width = 560, int chart_height = 380);
// "1.5 GB", "120 KB", "$0.03": short tick labels.
std::string ShortNumber(double v);

}  // namespace frugal::ledger
