package dev.gearbox.template;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A template that cannot parse or render fails with a TemplateException naming line, column and cause, never a crash. */
class JinjaErrorsTest {
    static TemplateException failure(String template, Map<String, ?> vars) {
        try {
            String out = Template.parse(template).render(vars, JinjaEngineCasesTest.FIXED);
            throw new AssertionError("rendered without error: " + out);
        } catch (TemplateException e) {
            return e;
        }
    }

    @Test
    void syntaxErrorsNameLineAndColumn() {
        TemplateException e = failure("ok\n{% if x %}never closed", Map.of());
        assertThat(e.getMessage()).contains("expected one of").contains("endif");
        e = failure("a\nb {{ 1 + }}", Map.of());
        assertThat(e.line()).isEqualTo(2);
        assertThat(e.column()).as("the }} where an operand was expected").isEqualTo(10);
        assertThat(failure("{% frobnicate %}", Map.of()).getMessage()).contains("unknown or unsupported statement 'frobnicate'");
        assertThat(failure("{{ 'unterminated }}", Map.of()).getMessage()).contains("unterminated string");
        assertThat(failure("{% for x in y %}{% endif %}", Map.of()).getMessage()).contains("endfor");
        assertThat(failure("{{ x", Map.of()).getMessage()).contains("unclosed tag");
        assertThat(failure("{% break %}", Map.of()).getMessage()).contains("'break' outside a for loop");
        assertThat(failure("{% for x in [1] %}{% macro m() %}{% continue %}{% endmacro %}{% endfor %}", Map.of()).getMessage())
                .contains("'continue' outside a for loop");
    }

    @Test
    void undefinedIsAnErrorOnlyWhenUsedBeyondPrinting() {
        TemplateException e = failure("line one\n  {{ foo.bar }}", Map.of());
        assertThat(e.getMessage()).contains("'foo' is undefined");
        assertThat(e.line()).isEqualTo(2);
        assertThat(failure("{{ d.a.b }}", Map.of("d", Map.of())).getMessage()).contains("'dict object' has no attribute 'a'");
        assertThat(failure("{{ nope + 1 }}", Map.of()).getMessage()).contains("'nope' is undefined");
        assertThat(failure("{{ nope() }}", Map.of()).getMessage()).contains("'nope' is undefined");
        assertThat(failure("{{ nope|tojson }}", Map.of()).getMessage()).contains("'nope' is undefined");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        TemplateException e = failure("a\nb\n{{ raise_exception('Only user and assistant roles are supported!') }}", Map.of());
        assertThat(e).isInstanceOf(RaisedException.class);
        assertThat(((RaisedException) e).templateMessage()).isEqualTo("Only user and assistant roles are supported!");
        assertThat(e.line()).isEqualTo(3);
    }

    @Test
    void runtimeErrorsArePythonsWithPositions() {
        assertThat(failure("{{ 1 / 0 }}", Map.of()).getMessage()).contains("division by zero");
        assertThat(failure("{{ 'a' + 1 }}", Map.of()).getMessage()).contains("unsupported operand types for +: 'str' and 'int'");
        assertThat(failure("{{ [1].append(2) }}", Map.of()).getMessage()).contains("unsafe");
        assertThat(failure("{% set d = {} %}{% set d.x = 1 %}", Map.of()).getMessage()).contains("only on a namespace()");
        assertThat(failure("{{ 1|frob }}", Map.of()).getMessage()).contains("no filter named 'frob'");
        assertThat(failure("{{ 1 is frob }}", Map.of()).getMessage()).contains("no test named 'frob'");
        assertThat(failure("{{ range(1000000)|length }}", Map.of()).getMessage()).contains("range too big");
        assertThat(failure("{% set a, b = [1, 2, 3] %}", Map.of()).getMessage()).contains("cannot unpack 3 values into 2");
        assertThat(failure("{{ 'x' in 3 }}", Map.of()).getMessage()).contains("not iterable");
    }

    @Test
    void runawayRecursionIsAnErrorNotAStackOverflow() {
        TemplateException e = failure("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}", Map.of());
        assertThat(e.getMessage()).contains("recursion");
    }

    @Test
    void strftimeNowReadsTheGivenClock() {
        String out = Template.parse("{{ strftime_now('%d %b %Y') }}|{{ strftime_now('%-d %B') }}").render(Map.of(), JinjaEngineCasesTest.FIXED);
        assertThat(out).isEqualTo("07 Mar 2026|7 March");
    }

    @Test
    void callerValuesAreNotModifiedAndJavaTypesWork() {
        java.util.List<Object> list = new java.util.ArrayList<>(java.util.List.of(1, 2.5f, 'c'));
        String out = Template.parse("{{ xs }} {{ xs|length }} {{ n + 1 }}").render(Map.of("xs", list, "n", 41));
        assertThat(out).isEqualTo("[1, 2.5, 'c'] 3 42");
        assertThatThrownBy(() -> Template.parse("{{ }}")).isInstanceOf(TemplateException.class);
    }
}
