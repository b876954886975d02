#include "ledger/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <fmt/format.h>

namespace frugal::ledger {
namespace {

const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f"};

std::string Escape(const std::string& s) {
  std::string o;
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      default: o += c;
    }
  }
  return o;
}

struct Axis {
  double lo, hi;
  bool log;
  double Map(double v, double a, double b) const {  // value → pixel in [a, b]
    const double t = log ? (std::log10(v) - std::log10(lo)) / (std::log10(hi) - std::log10(lo)) : (v - lo) / (hi - lo);
    return a + (b - a) * t;
  }
  std::vector<double> Ticks() const {
    std::vector<double> t;
    if (log) {
      const bool few = std::log10(hi) - std::log10(lo) < 2;  // under two decades: 1, 2, 5 steps
      for (double p = std::floor(std::log10(lo)); p <= std::ceil(std::log10(hi)); ++p) {
        for (double m : few ? std::vector<double>{1, 2, 5} : std::vector<double>{1}) {
          const double v = m * std::pow(10.0, p);
          if (v >= lo * 0.999 && v <= hi * 1.001) t.push_back(v);
        }
      }
      if (t.size() < 2) t = {lo, hi};
    } else {
      for (int i = 0; i <= 5; ++i) t.push_back(lo + (hi - lo) * i / 5);
    }
    return t;
  }
};

Axis AxisOf(const std::vector<Series>& series, bool x, bool log) {
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const Series& s : series) {
    for (double v : x ? s.x : s.y) {
      if (!std::isfinite(v) || (log && v <= 0)) continue;
      lo = std::min(lo, v);
      hi = std::max(hi, v);
    }
  }
  if (!std::isfinite(lo)) lo = log ? 1 : 0, hi = log ? 10 : 1;
  if (!log && !x) lo = std::min(lo, 0.0);  // values from zero
  if (hi <= lo) hi = log ? lo * 10 : lo + 1;
  return {lo, hi, log};
}


// A grouped bar chart inside [left, right] × [top, bottom].
std::string Bars(const Chart& ch, double left, double right, double top, double bottom) {
  std::string o;
  const Axis ay = AxisOf(ch.series, false, ch.log_y);
  for (double t : ay.Ticks()) {
    const double py = ay.Map(t, bottom, top);
    o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
                     "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                     left, py, right, left - 4, py + 4, ShortNumber(t));
  }
  const double n = static_cast<double>(std::max<size_t>(ch.categories.size(), 1));
  const double slot = (right - left) / n, k = static_cast<double>(std::max<size_t>(ch.series.size(), 1));
  const double bar = slot * 0.8 / k;
  const double base = ay.Map(ch.log_y ? ay.lo : std::max(ay.lo, 0.0), bottom, top);
  for (size_t c = 0; c < ch.categories.size(); ++c) {
    const double x0 = left + slot * static_cast<double>(c) + slot * 0.1;
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", x0 + slot * 0.4, bottom + 14,
                     Escape(ch.categories[c]));
    for (size_t i = 0; i < ch.series.size(); ++i) {
      if (c >= ch.series[i].y.size() || !std::isfinite(ch.series[i].y[c]) || (ch.log_y && ch.series[i].y[c] <= 0)) continue;
      const double y = ay.Map(ch.series[i].y[c], bottom, top);
      o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\"><title>{}: {}</title></rect>\n",
                       x0 + bar * static_cast<double>(i), std::min(y, base), bar, std::fabs(base - y),
                       kColors[i % (sizeof(kColors) / sizeof(kColors[0]))], Escape(ch.series[i].name), ShortNumber(ch.series[i].y[c]));
    }
  }
  for (size_t i = 0; i < ch.series.size(); ++i) {
    const double ly = top + 14 + 14 * static_cast<double>(i);
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"14\" height=\"10\" fill=\"{}\"/><text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                     right - 150, ly - 9, kColors[i % (sizeof(kColors) / sizeof(kColors[0]))], right - 132, ly, Escape(ch.series[i].name));
  }
  return o;
}

}  // namespace

std::string ShortNumber(double v) {
  const double a = std::fabs(v);
  if (a >= 1e12) return fmt::format("{:.3g}T", v / 1e12);
  if (a >= 1e9) return fmt::format("{:.3g}G", v / 1e9);
  if (a >= 1e6) return fmt::format("{:.3g}M", v / 1e6);
  if (a >= 1e3) return fmt::format("{:.3g}K", v / 1e3);
  return fmt::format("{:.3g}", v);
}

std::string RenderSvg(const std::vector<Chart>& charts, int w, int h) {
  std::string o = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" font-family=\"sans-serif\" font-size=\"11\">\n",
      w * static_cast<int>(charts.size()), h);
  o += fmt::format("<rect width=\"{}\" height=\"{}\" fill=\"white\"/>\n", w * static_cast<int>(charts.size()), h);
  for (size_t c = 0; c < charts.size(); ++c) {
    const Chart& ch = charts[c];
    const double left = static_cast<double>(c) * w + 70, right = (static_cast<double>(c) + 1) * w - 20, top = 40, bottom = h - 50.0;
    const Axis ax = AxisOf(ch.series, true, ch.log_x), ay = AxisOf(ch.series, false, ch.log_y);
    o += fmt::format("<text x=\"{:.1f}\" y=\"20\" font-size=\"13\" font-weight=\"bold\">{}</text>\n", left, Escape(ch.title));
    o += fmt::format("<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" stroke=\"#444\"/>\n", left, top,
                     right - left, bottom - top);
    if (!ch.categories.empty()) {
      o += Bars(ch, left, right, top, bottom);
      o += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
                       left - 55, (top + bottom) / 2, Escape(ch.y_label));
      o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", (left + right) / 2, bottom + 32,
                       Escape(ch.x_label));
      continue;
    }
    for (double t : ax.Ticks()) {
      const double px = ax.Map(t, left, right);
      o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#ddd\"/>"
                       "<text x=\"{0:.1f}\" y=\"{3:.1f}\" text-anchor=\"middle\">{4}</text>\n",
                       px, top, bottom, bottom + 14, ShortNumber(t));
    }
    for (double t : ay.Ticks()) {
      const double py = ay.Map(t, bottom, top);
      o += fmt::format("<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{2:.1f}\" y2=\"{1:.1f}\" stroke=\"#ddd\"/>"
                       "<text x=\"{3:.1f}\" y=\"{4:.1f}\" text-anchor=\"end\">{5}</text>\n",
                       left, py, right, left - 4, py + 4, ShortNumber(t));
    }
    o += fmt::format("<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{}</text>\n", (left + right) / 2, bottom + 32,
                     Escape(ch.x_label));
    o += fmt::format("<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"middle\" transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
                     left - 55, (top + bottom) / 2, Escape(ch.y_label));
    for (size_t i = 0; i < ch.series.size(); ++i) {
      const Series& s = ch.series[i];
      const char* color = kColors[i % (sizeof(kColors) / sizeof(kColors[0]))];
      std::string points;
      for (size_t k = 0; k < s.x.size() && k < s.y.size(); ++k) {
        if (!std::isfinite(s.x[k]) || !std::isfinite(s.y[k]) || (ch.log_x && s.x[k] <= 0) || (ch.log_y && s.y[k] <= 0)) continue;
        points += fmt::format("{:.1f},{:.1f} ", ax.Map(s.x[k], left, right), ay.Map(s.y[k], bottom, top));
      }
      o += fmt::format("<polyline fill=\"none\" stroke=\"{}\" stroke-width=\"2\"{} points=\"{}\"><title>{}</title></polyline>\n", color,
                       s.dashed ? " stroke-dasharray=\"6 4\"" : "", points, Escape(s.name));
      const double ly = top + 14 + 14 * static_cast<double>(i);
      o += fmt::format("<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>"
                       "<text x=\"{:.1f}\" y=\"{:.1f}\">{}</text>\n",
                       left + 8, ly - 4, left + 28, ly - 4, color, s.dashed ? " stroke-dasharray=\"6 4\"" : "", left + 32, ly,
                       Escape(s.name));
    }
  }
  o += "</svg>\n";
  return o;
}

}  // namespace frugal::ledger
