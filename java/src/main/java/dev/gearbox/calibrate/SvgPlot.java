package dev.gearbox.calibrate;

import java.util.List;
import java.util.Locale;

/**
 * A small quality-against-cost chart written as SVG by hand (no plotting library): lines for
 * curves, labelled dots for single points, a legend on the right. Quality runs 0..1; cost from 0
 * to at least 1 (always-largest), further when some point costs more.
 */
final class SvgPlot {
    /** A curve: its points joined in order. */
    record Series(String label, List<CurvePoint> points, String color, boolean dashed) {}

    /** One point, named in the legend and, when {@code onPlotLabel}, beside itself. */
    record Dot(String label, CurvePoint point, String color, boolean onPlotLabel) {}

    private static final int W = 720, H = 460, LEFT = 64, RIGHT = 200, TOP = 44, BOTTOM = 56;

    private SvgPlot() {}

    static String render(String title, String xLabel, String yLabel, List<Series> series, List<Dot> dots) {
        double xMax = 1;
        for (Series s : series) for (CurvePoint p : s.points()) xMax = Math.max(xMax, p.cost());
        for (Dot d : dots) xMax = Math.max(xMax, d.point().cost());
        xMax = Math.ceil(xMax * 5 - 1e-9) / 5;
        Frame f = new Frame(xMax);

        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">%n", W, H, W, H));
        sb.append(String.format(Locale.ROOT, "<rect width=\"%d\" height=\"%d\" fill=\"white\"/>%n", W, H));
        sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"24\" font-size=\"15\" font-weight=\"bold\">%s</text>%n", LEFT, esc(title)));
        // grid and ticks
        for (int i = 0; i <= 5; i++) {
            double y = i / 5.0, py = f.y(y);
            sb.append(line(LEFT, py, W - RIGHT, py, "#e4e4e4", false));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.1f</text>%n", LEFT - 6, py + 4, y));
        }
        int xTicks = (int) Math.round(xMax * 5);
        for (int i = 0; i <= xTicks; i++) {
            double x = i / 5.0, px = f.x(x);
            sb.append(line(px, TOP, px, H - BOTTOM, "#e4e4e4", false));
            sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%.1f</text>%n", px, H - BOTTOM + 16, x));
        }
        sb.append(String.format(Locale.ROOT, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#444\"/>%n", LEFT, TOP, W - LEFT - RIGHT, H - TOP - BOTTOM));
        sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>%n", (LEFT + W - RIGHT) / 2.0, H - 14, esc(xLabel)));
        sb.append(String.format(Locale.ROOT, "<text transform=\"translate(18 %.1f) rotate(-90)\" text-anchor=\"middle\">%s</text>%n", (TOP + H - BOTTOM) / 2.0, esc(yLabel)));

        int legendY = TOP + 8;
        for (Series s : series) {
            if (s.points().isEmpty()) continue;
            StringBuilder pts = new StringBuilder();
            for (CurvePoint p : s.points()) pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", f.x(p.cost()), f.y(clamp(p.quality()))));
            sb.append(String.format(Locale.ROOT, "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>%n",
                    pts.toString().strip(), s.color(), s.dashed() ? " stroke-dasharray=\"6 4\"" : ""));
            sb.append(line(W - RIGHT + 14, legendY, W - RIGHT + 40, legendY, s.color(), s.dashed()));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", W - RIGHT + 46, legendY + 4, esc(s.label())));
            legendY += 20;
        }
        for (Dot d : dots) {
            double px = f.x(d.point().cost()), py = f.y(clamp(d.point().quality()));
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"5\" fill=\"%s\"/>%n", px, py, d.color()));
            if (d.onPlotLabel()) sb.append(String.format(Locale.ROOT, "<text x=\"%.1f\" y=\"%.1f\">%s</text>%n", px + 7, py - 7, esc(d.label())));
            sb.append(String.format(Locale.ROOT, "<circle cx=\"%d\" cy=\"%d\" r=\"5\" fill=\"%s\"/>%n", W - RIGHT + 27, legendY, d.color()));
            sb.append(String.format(Locale.ROOT, "<text x=\"%d\" y=\"%d\">%s</text>%n", W - RIGHT + 46, legendY + 4, esc(d.label())));
            legendY += 20;
        }
        sb.append("</svg>\n");
        return sb.toString();
    }

    private record Frame(double xMax) {
        double x(double v) { return LEFT + v / xMax * (W - LEFT - RIGHT); }
        double y(double v) { return H - BOTTOM - v * (H - TOP - BOTTOM); }
    }

    private static double clamp(double q) {
        return Double.isNaN(q) ? 0 : Math.max(0, Math.min(1, q));
    }

    private static String line(double x1, double y1, double x2, double y2, String color, boolean dashed) {
        return String.format(Locale.ROOT, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"%s/>%n",
                x1, y1, x2, y2, color, dashed ? " stroke-width=\"2\" stroke-dasharray=\"6 4\"" : color.equals("#e4e4e4") ? "" : " stroke-width=\"2\"");
    }

    static String esc(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
