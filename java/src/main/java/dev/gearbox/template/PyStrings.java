package dev.gearbox.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Python's str algorithms that differ from Java's: whitespace, strip, split, title, capitalize. */
final class PyStrings {
    private PyStrings() {}

    /** Python's str.isspace for one code point. */
    static boolean isSpace(int c) {
        return Character.isWhitespace(c) || Character.isSpaceChar(c) || c == 0x85;
    }

    static String strip(String s, String chars, boolean left, boolean right) {
        int b = 0, e = s.length();
        if (left) while (b < e && stripped(s.codePointAt(b), chars)) b += Character.charCount(s.codePointAt(b));
        if (right) while (e > b && stripped(s.codePointBefore(e), chars)) e -= Character.charCount(s.codePointBefore(e));
        return s.substring(b, e);
    }

    private static boolean stripped(int c, String chars) {
        return chars == null ? isSpace(c) : chars.indexOf(new String(Character.toChars(c))) >= 0;
    }

    /** str.split(sep, maxsplit): with sep null, runs of whitespace separate and empty parts are dropped. */
    static List<Object> split(String s, String sep, long maxsplit) {
        List<Object> out = new ArrayList<>();
        if (sep != null) {
            if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
            int from = 0, at;
            while ((maxsplit < 0 || out.size() < maxsplit) && (at = s.indexOf(sep, from)) >= 0) {
                out.add(s.substring(from, at));
                from = at + sep.length();
            }
            out.add(s.substring(from));
            return out;
        }
        int i = 0, n = s.length();
        while (true) {
            while (i < n && isSpace(s.codePointAt(i))) i += Character.charCount(s.codePointAt(i));
            if (i >= n) return out;
            if (maxsplit >= 0 && out.size() >= maxsplit) {
                out.add(s.substring(i)); // Python keeps the rest as is, trailing whitespace included
                return out;
            }
            int j = i;
            while (j < n && !isSpace(s.codePointAt(j))) j += Character.charCount(s.codePointAt(j));
            out.add(s.substring(i, j));
            i = j;
        }
    }

    static List<Object> rsplit(String s, String sep, long maxsplit) {
        if (maxsplit < 0) return split(s, sep, -1);
        List<Object> out = new ArrayList<>();
        if (sep != null) {
            if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
            int end = s.length(), at;
            while (out.size() < maxsplit && (at = s.lastIndexOf(sep, end - sep.length())) >= 0 && end - sep.length() >= 0) {
                out.addFirst(s.substring(at + sep.length(), end));
                end = at;
            }
            out.addFirst(s.substring(0, end));
            return out;
        }
        int e = s.length();
        while (true) {
            while (e > 0 && isSpace(s.codePointBefore(e))) e -= Character.charCount(s.codePointBefore(e));
            if (e <= 0) return out;
            if (out.size() >= maxsplit) {
                out.addFirst(s.substring(0, e)); // leading whitespace of the rest stays, as in Python
                return out;
            }
            int b = e;
            while (b > 0 && !isSpace(s.codePointBefore(b))) b -= Character.charCount(s.codePointBefore(b));
            out.addFirst(s.substring(b, e));
            e = b;
        }
    }

    private static boolean cased(int c) {
        return Character.isUpperCase(c) || Character.isLowerCase(c) || Character.isTitleCase(c);
    }

    /** Python's str.title(): a cased character after an uncased one is title-cased, others lower-cased. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean prevCased = false;
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            i += Character.charCount(c);
            if (cased(c)) {
                sb.append(prevCased ? new String(Character.toChars(c)).toLowerCase(Locale.ROOT) : titleCase(c));
                prevCased = true;
            } else {
                sb.appendCodePoint(c);
                prevCased = false;
            }
        }
        return sb.toString();
    }

    /** Python's str.capitalize(): first character title-cased, the rest lower-cased. */
    static String capitalize(String s) {
        if (s.isEmpty()) return s;
        int c = s.codePointAt(0);
        return titleCase(c) + s.substring(Character.charCount(c)).toLowerCase(Locale.ROOT);
    }

    private static String titleCase(int c) {
        int t = Character.toTitleCase(c);
        String up = new String(Character.toChars(c)).toUpperCase(Locale.ROOT);
        return up.length() > Character.charCount(c) || t == c ? up : new String(Character.toChars(t));
    }

    /** jinja2's title filter: capitalises each word split at runs of whitespace, '-', '(', '{', '[', '<'. */
    static String jinjaTitle(String s) {
        StringBuilder sb = new StringBuilder();
        int i = 0, n = s.length();
        while (i < n) {
            int j = i;
            boolean sep = isWordSep(s.charAt(i));
            while (j < n && isWordSep(s.charAt(j)) == sep) j++;
            String part = s.substring(i, j);
            sb.append(sep ? part : capitalizeUpperFirst(part));
            i = j;
        }
        return sb.toString();
    }

    private static String capitalizeUpperFirst(String part) {
        int c = part.codePointAt(0);
        return new String(Character.toChars(c)).toUpperCase(Locale.ROOT) + part.substring(Character.charCount(c)).toLowerCase(Locale.ROOT);
    }

    private static boolean isWordSep(char c) {
        return isSpace(c) || c == '-' || c == '(' || c == '{' || c == '[' || c == '<';
    }

    static long count(String s, String sub) {
        if (sub.isEmpty()) return s.codePointCount(0, s.length()) + 1;
        long n = 0;
        for (int at = s.indexOf(sub); at >= 0; at = s.indexOf(sub, at + sub.length())) n++;
        return n;
    }

    /** A char offset as a code-point index (for find/index results). */
    static long cpIndex(String s, int charIndex) {
        return charIndex < 0 ? -1 : s.codePointCount(0, charIndex);
    }
}
