package dev.gearbox.template;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a template into tokens the way jinja2's lexer does with Hugging Face's settings:
 * {@code trim_blocks} (the first newline after a block or comment tag goes), {@code lstrip_blocks}
 * (spaces and tabs before a block or comment tag that starts a line go), the {@code -} and {@code +}
 * whitespace-control marks on tags, newlines normalised to {@code \n}, a single trailing newline of
 * the template dropped ({@code keep_trailing_newline=False}), and {@code {% raw %}} blocks kept verbatim.
 * Tags end only outside brackets, so {@code {{ {'a': {}}} }} works as in jinja2.
 */
final class Lexer {
    private static final Pattern RAW_BEGIN = Pattern.compile("\\{%([-+]?)\\s*raw\\s*([-+]?)%\\}");
    private static final Pattern RAW_END = Pattern.compile("\\{%([-+]?)\\s*endraw\\s*([-+]?)%\\}");
    private static final String[] OPS = {"**", "//", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "~", "<", ">", "=",
            ".", ",", ":", "|", "(", ")", "[", "]", "{", "}"};

    private final String src;
    private final List<Token> out = new ArrayList<>();
    private int pos;
    private boolean lineStarting = true;

    /** Offsets of every '\n' in the source, for positions in messages. */
    private final int[] newlines;

    private Lexer(String src) {
        this.src = src;
        this.newlines = java.util.stream.IntStream.range(0, src.length()).filter(i -> src.charAt(i) == '\n').toArray();
    }

    static List<Token> tokenize(String source) {
        String s = source.replace("\r\n", "\n").replace('\r', '\n');
        if (s.endsWith("\n")) s = s.substring(0, s.length() - 1);
        Lexer l = new Lexer(s);
        l.run();
        return l.out;
    }

    private void run() {
        while (pos < src.length()) {
            int tag = nextTagStart(pos);
            String text = src.substring(pos, tag < 0 ? src.length() : tag);
            int textStart = pos;
            if (tag < 0) {
                emitText(text, textStart);
                break;
            }
            char kind = src.charAt(tag + 1);
            char mark = tag + 2 < src.length() ? src.charAt(tag + 2) : ' ';
            if (mark == '-') {
                text = rstrip(text);
            } else if (mark != '+' && kind != '{') {
                int lpos = text.lastIndexOf('\n') + 1;
                if ((lpos > 0 || lineStarting) && lpos < text.length() && text.substring(lpos).isBlank()) text = text.substring(0, lpos);
            }
            Matcher raw = RAW_BEGIN.matcher(src).region(tag, src.length());
            if (kind == '%' && raw.lookingAt()) {
                emitText(text, textStart);
                rawBlock(raw);
                continue;
            }
            emitText(text, textStart);
            pos = tag + 2 + (mark == '-' || mark == '+' ? 1 : 0);
            switch (kind) {
                case '#' -> comment(tag);
                case '{' -> tag(Token.Kind.VAR_BEGIN, Token.Kind.VAR_END, "}}", tag);
                default -> tag(Token.Kind.BLOCK_BEGIN, Token.Kind.BLOCK_END, "%}", tag);
            }
        }
        out.add(new Token(Token.Kind.EOF, "", null, line(src.length()), col(src.length())));
    }

    private int nextTagStart(int from) {
        int i = from;
        while ((i = src.indexOf('{', i)) >= 0 && i + 1 < src.length()) {
            char c = src.charAt(i + 1);
            if (c == '{' || c == '%' || c == '#') return i;
            i++;
        }
        return -1;
    }

    private void emitText(String text, int at) {
        if (!text.isEmpty()) out.add(new Token(Token.Kind.TEXT, text, text, line(at), col(at)));
    }

    private void comment(int tag) {
        int end = src.indexOf("#}", pos);
        if (end < 0) throw new TemplateException("unclosed comment", line(tag), col(tag));
        char mark = src.charAt(end - 1);
        pos = end + 2;
        afterBlockEnd(mark == '-' && end - 1 >= tag + 2, mark == '+' && end - 1 >= tag + 2, true);
    }

    private void rawBlock(Matcher begin) {
        int bodyStart = begin.end();
        boolean stripAfter = begin.group(2).equals("-");
        Matcher end = RAW_END.matcher(src).region(bodyStart, src.length());
        if (!end.find()) throw new TemplateException("missing {% endraw %}", line(begin.start()), col(begin.start()));
        String body = src.substring(bodyStart, end.start());
        if (stripAfter) body = lstrip(body);
        else if (body.startsWith("\n") && !begin.group(2).equals("+")) body = body.substring(1); // trim_blocks
        if (end.group(1).equals("-")) body = rstrip(body);
        emitText(body, bodyStart);
        pos = end.end();
        afterBlockEnd(end.group(2).equals("-"), end.group(2).equals("+"), true);
    }

    /** Skips what follows a block or comment end: all whitespace after {@code -}, else one newline (trim_blocks). */
    private void afterBlockEnd(boolean minus, boolean plus, boolean trimBlocks) {
        if (minus) {
            while (pos < src.length() && isSpace(src.charAt(pos))) pos++;
        } else if (!plus && trimBlocks && pos < src.length() && src.charAt(pos) == '\n') {
            pos++;
        }
        lineStarting = pos > 0 && src.charAt(pos - 1) == '\n';
    }

    private void tag(Token.Kind beginKind, Token.Kind endKind, String close, int tagStart) {
        out.add(new Token(beginKind, src.substring(tagStart, pos), null, line(tagStart), col(tagStart)));
        int depth = 0;
        while (true) {
            while (pos < src.length() && isSpace(src.charAt(pos))) pos++;
            if (pos >= src.length()) {
                throw new TemplateException("unclosed tag: expected '" + close + "'", line(tagStart), col(tagStart));
            }
            if (depth == 0) {
                boolean minus = src.startsWith("-" + close, pos), plus = src.startsWith("+" + close, pos);
                if (minus || plus || src.startsWith(close, pos)) {
                    int at = pos;
                    pos += close.length() + (minus || plus ? 1 : 0);
                    out.add(new Token(endKind, close, null, line(at), col(at)));
                    afterBlockEnd(minus, plus, endKind == Token.Kind.BLOCK_END);
                    return;
                }
            }
            char c = src.charAt(pos);
            int at = pos;
            if (Character.isLetter(c) || c == '_') {
                while (pos < src.length() && (Character.isLetterOrDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
                String name = src.substring(at, pos);
                out.add(new Token(Token.Kind.NAME, name, name, line(at), col(at)));
            } else if (Character.isDigit(c)) {
                number(at);
            } else if (c == '\'' || c == '"') {
                string(at, c);
            } else {
                String op = null;
                for (String o : OPS) if (src.startsWith(o, pos)) { op = o; break; }
                if (op == null) throw new TemplateException("unexpected character '" + c + "'", line(at), col(at));
                if (op.equals("(") || op.equals("[") || op.equals("{")) depth++;
                if (op.equals(")") || op.equals("]") || op.equals("}")) depth = Math.max(0, depth - 1);
                pos += op.length();
                out.add(new Token(Token.Kind.OP, op, op, line(at), col(at)));
            }
        }
    }

    private void number(int at) {
        while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
        boolean isFloat = false;
        if (pos + 1 < src.length() && src.charAt(pos) == '.' && Character.isDigit(src.charAt(pos + 1))) {
            isFloat = true;
            pos++;
            while (pos < src.length() && (Character.isDigit(src.charAt(pos)) || src.charAt(pos) == '_')) pos++;
        }
        if (pos < src.length() && (src.charAt(pos) == 'e' || src.charAt(pos) == 'E')) {
            int save = pos;
            pos++;
            if (pos < src.length() && (src.charAt(pos) == '+' || src.charAt(pos) == '-')) pos++;
            if (pos < src.length() && Character.isDigit(src.charAt(pos))) {
                isFloat = true;
                while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
            } else {
                pos = save;
            }
        }
        String text = src.substring(at, pos);
        String digits = text.replace("_", "");
        Object value = isFloat ? (Object) Double.parseDouble(digits) : (Object) Long.parseLong(digits);
        out.add(new Token(isFloat ? Token.Kind.FLOAT : Token.Kind.INT, text, value, line(at), col(at)));
    }

    /** A quoted string with Python's escapes (jinja2 decodes them like "unicode-escape"). */
    private void string(int at, char quote) {
        StringBuilder sb = new StringBuilder();
        pos++;
        while (true) {
            if (pos >= src.length()) throw new TemplateException("unterminated string", line(at), col(at));
            char c = src.charAt(pos++);
            if (c == quote) break;
            if (c != '\\') {
                sb.append(c);
                continue;
            }
            if (pos >= src.length()) throw new TemplateException("unterminated string", line(at), col(at));
            char e = src.charAt(pos++);
            switch (e) {
                case 'n' -> sb.append('\n');
                case 't' -> sb.append('\t');
                case 'r' -> sb.append('\r');
                case 'b' -> sb.append('\b');
                case 'f' -> sb.append('\f');
                case 'v' -> sb.append('\u000b');
                case 'a' -> sb.append('\u0007');
                case '\\', '\'', '"' -> sb.append(e);
                case '\n' -> { } // a backslash-newline continues the line
                case 'x' -> sb.appendCodePoint(hex(2, at));
                case 'u' -> sb.appendCodePoint(hex(4, at));
                case 'U' -> sb.appendCodePoint(hex(8, at));
                default -> {
                    if (e >= '0' && e <= '7') {
                        int v = e - '0', k = 1;
                        while (k < 3 && pos < src.length() && src.charAt(pos) >= '0' && src.charAt(pos) <= '7') {
                            v = v * 8 + (src.charAt(pos++) - '0');
                            k++;
                        }
                        sb.appendCodePoint(v);
                    } else {
                        sb.append('\\').append(e); // Python keeps unknown escapes as written
                    }
                }
            }
        }
        String value = sb.toString();
        out.add(new Token(Token.Kind.STRING, src.substring(at, pos), value, line(at), col(at)));
    }

    private int hex(int n, int at) {
        if (pos + n > src.length()) throw new TemplateException("truncated \\x/\\u escape in string", line(at), col(at));
        try {
            int v = Integer.parseInt(src.substring(pos, pos + n), 16);
            pos += n;
            return v;
        } catch (NumberFormatException ex) {
            throw new TemplateException("bad \\x/\\u escape in string", line(at), col(at));
        }
    }

    static boolean isSpace(char c) { return Character.isWhitespace(c) || Character.isSpaceChar(c); }

    static String rstrip(String s) {
        int e = s.length();
        while (e > 0 && isSpace(s.charAt(e - 1))) e--;
        return s.substring(0, e);
    }

    private static String lstrip(String s) {
        int b = 0;
        while (b < s.length() && isSpace(s.charAt(b))) b++;
        return s.substring(b);
    }

    /** 1-based line of a source offset, by binary search over the newline offsets. */
    private int line(int offset) {
        int i = java.util.Arrays.binarySearch(newlines, offset);
        return (i >= 0 ? i : -i - 1) + 1;
    }

    private int col(int offset) {
        int l = line(offset);
        return l == 1 ? offset + 1 : offset - newlines[l - 2];
    }
}
