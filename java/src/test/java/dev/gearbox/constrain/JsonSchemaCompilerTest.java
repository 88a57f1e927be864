package dev.gearbox.constrain;

import static dev.gearbox.constrain.Bytes.accepts;
import static dev.gearbox.constrain.Bytes.isPrefix;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Schemas compiled to grammars, checked on hand-written outputs. */
class JsonSchemaCompilerTest {

    static Grammar schema(String json) {
        return JsonSchemaCompiler.compile(json.replace('\'', '"'));
    }

    @Test
    void stringLengthsCountCodePoints() {
        Grammar g = schema("{'type':'string','minLength':2,'maxLength':3}");
        assertThat(accepts(g, "\"ab\"")).isTrue();
        assertThat(accepts(g, "\"abc\"")).isTrue();
        assertThat(accepts(g, "\"a\"")).isFalse();
        assertThat(isPrefix(g, "\"abcd")).isFalse();
        assertThat(accepts(g, "\"é€😀\"")).isTrue(); // 3 code points, 9 bytes
        assertThat(isPrefix(g, "\"é€😀é")).isFalse();
        assertThat(accepts(g, "\"\\n\\u0041\"")).isTrue(); // escapes are one code point each
        assertThat(accepts(g, "\"\\n\"")).isFalse();
    }

    @Test
    void itemCountsAreEnforced() {
        Grammar g = schema("{'type':'array','items':{'type':'integer'},'minItems':1,'maxItems':2}");
        assertThat(accepts(g, "[]")).isFalse();
        assertThat(accepts(g, "[1]")).isTrue();
        assertThat(accepts(g, "[1, 2]")).isTrue();
        assertThat(isPrefix(g, "[1,2,")).isFalse();
        assertThat(accepts(g, "[1.5]")).isFalse();
        assertThat(accepts(g, "[\"x\"]")).isFalse();
    }

    @Test
    void prefixItemsThenItems() {
        Grammar g = schema("{'type':'array','prefixItems':[{'type':'string'},{'type':'boolean'}],'items':{'type':'null'},'maxItems':3}");
        assertThat(accepts(g, "[]")).isTrue();
        assertThat(accepts(g, "[\"a\"]")).isTrue();
        assertThat(accepts(g, "[\"a\",true]")).isTrue();
        assertThat(accepts(g, "[\"a\",true,null]")).isTrue();
        assertThat(isPrefix(g, "[\"a\",true,null,")).isFalse();
        assertThat(accepts(g, "[true]")).isFalse();
        Grammar closed = schema("{'type':'array','prefixItems':[{'type':'integer'}],'items':false}");
        assertThat(accepts(closed, "[1]")).isTrue();
        assertThat(isPrefix(closed, "[1,")).isFalse();
    }

    @Test
    void requiredAndOptionalPropertiesInDeclarationOrder() {
        Grammar g = schema("{'type':'object','properties':{'a':{'type':'integer'},'b':{'type':'string'},'c':{'type':'boolean'}},"
                + "'required':['b'],'additionalProperties':false}");
        assertThat(accepts(g, "{\"b\":\"x\"}")).isTrue();
        assertThat(accepts(g, "{\"a\":1,\"b\":\"x\"}")).isTrue();
        assertThat(accepts(g, "{\"a\": 1, \"b\": \"x\", \"c\": true}")).isTrue();
        assertThat(accepts(g, "{\"b\":\"x\",\"c\":false}")).isTrue();
        assertThat(accepts(g, "{}")).isFalse(); // b is required
        assertThat(accepts(g, "{\"a\":1}")).isFalse();
        assertThat(isPrefix(g, "{\"b\":\"x\",\"a\"")).isFalse(); // declaration order
        assertThat(isPrefix(g, "{\"d\"")).isFalse(); // no extra keys
        assertThat(isPrefix(g, "{\"b\":1")).isFalse(); // wrong type
    }

    @Test
    void objectsWithoutProperties() {
        assertThat(accepts(schema("{'type':'object'}"), "{\"any\":[1,{\"x\":null}]}")).isTrue();
        Grammar closed = schema("{'type':'object','additionalProperties':false}");
        assertThat(accepts(closed, "{}")).isTrue();
        assertThat(isPrefix(closed, "{\"")).isFalse();
        Grammar map = schema("{'type':'object','additionalProperties':{'type':'integer'}}");
        assertThat(accepts(map, "{\"a\":1,\"b\":2}")).isTrue();
        assertThat(accepts(map, "{\"a\":\"1\"}")).isFalse();
    }

    @Test
    void enumConstAnyOfAndTypeArrays() {
        Grammar e = schema("{'enum':['red','green',3,null,{'k':[1]}]}");
        assertThat(accepts(e, "\"red\"")).isTrue();
        assertThat(accepts(e, "3")).isTrue();
        assertThat(accepts(e, "null")).isTrue();
        assertThat(accepts(e, "{\"k\":[1]}")).isTrue();
        assertThat(accepts(e, "\"blue\"")).isFalse();
        assertThat(accepts(e, "30")).isFalse();
        Grammar c = schema("{'const':'ünï'}");
        assertThat(accepts(c, "\"ünï\"")).isTrue();
        assertThat(accepts(c, "\"uni\"")).isFalse();
        Grammar any = schema("{'anyOf':[{'type':'integer'},{'type':'array','items':{'type':'string'},'maxItems':1}]}");
        assertThat(accepts(any, "7")).isTrue();
        assertThat(accepts(any, "[\"s\"]")).isTrue();
        assertThat(accepts(any, "[\"s\",\"t\"]")).isFalse();
        Grammar nullable = schema("{'type':['string','null'],'maxLength':1}");
        assertThat(accepts(nullable, "null")).isTrue();
        assertThat(accepts(nullable, "\"x\"")).isTrue();
        assertThat(accepts(nullable, "\"xy\"")).isFalse();
        assertThat(accepts(nullable, "1")).isFalse();
    }

    @Test
    void recursiveRefsBuildATree() {
        Grammar g = schema("{'$ref':'#/$defs/node','$defs':{'node':{'type':'object','properties':{"
                + "'v':{'type':'integer'},'kids':{'type':'array','items':{'$ref':'#/$defs/node'}}},'required':['v','kids']}}}");
        assertThat(accepts(g, "{\"v\":1,\"kids\":[]}")).isTrue();
        assertThat(accepts(g, "{\"v\":1,\"kids\":[{\"v\":2,\"kids\":[{\"v\":3,\"kids\":[]}]},{\"v\":4,\"kids\":[]}]}")).isTrue();
        assertThat(accepts(g, "{\"v\":1,\"kids\":[{\"v\":2}]}")).isFalse();
        Grammar defs = schema("{'definitions':{'n':{'type':'integer'}},'type':'array','items':{'$ref':'#/definitions/n'}}");
        assertThat(accepts(defs, "[1,2]")).isTrue();
        assertThat(accepts(defs, "[true]")).isFalse();
        Grammar self = schema("{'type':'array','items':{'$ref':'#'},'maxItems':2}");
        assertThat(accepts(self, "[[],[[]]]")).isTrue();
        assertThat(accepts(self, "[1]")).isFalse();
    }

    @Test
    void emptySchemaIsAnyValue() {
        Grammar g = schema("{}");
        assertThat(accepts(g, "[1,\"a\",{}]")).isTrue();
        assertThat(accepts(JsonSchemaCompiler.compile("true"), "null")).isTrue();
    }

    @Test
    void canEndOnlyAtCompleteValues() {
        Grammar g = schema("{'type':'object','properties':{'n':{'type':'number'}},'required':['n']}");
        Recognizer r = new Recognizer(g);
        Recognizer.State s = r.initial();
        assertThat(s.accepting).isFalse();
        s = r.walk(s, "{\"n\":1".getBytes());
        assertThat(s.accepting).isFalse();
        s = r.walk(s, "2}".getBytes());
        assertThat(s.accepting).isTrue();
        assertThat(s.stacks).isEmpty(); // nothing may follow the closing brace
        Recognizer.State num = new Recognizer(schema("{'type':'integer'}")).initial();
        assertThat(num.accepting).isFalse();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{'type':'string','pattern':'^a$'}|pattern|",
            "{'type':'string','format':'email'}|format|",
            "{'type':'number','minimum':0}|minimum|",
            "{'type':'integer','minimum':5,'maximum':4}|minimum|",
            "{'type':'number','multipleOf':2}|multipleOf|",
            "{'properties':{'a':{'not':{'type':'null'}}}}|not|/properties/a",
            "{'type':'array','items':{'type':'object','minProperties':1}}|minProperties|/items",
            "{'allOf':[{'type':'string'},{'maxLength':2}]}|allOf|",
            "{'$ref':'other.json#/x'}|$ref|",
            "{'$ref':'#/$defs/missing'}|$ref|",
            "{'type':'array','uniqueItems':true}|uniqueItems|",
            "{'type':'strin'}|type|",
            "{'type':'string','minLength':3,'maxLength':2}|minLength|",
            "{'anyOf':[{'type':'string'}],'maxLength':2}|maxLength|",
            "{'properties':{'a/b':false}}|false|/properties/a~1b",
            "{'anyOf':[{'$ref':'#'},{'type':'null'}]}|$ref|",
    })
    void unsupportedKeywordsAreNamedWithTheirPointer(String schemaJson, String keyword, String pointer) {
        assertThatThrownBy(() -> schema(schemaJson))
                .isInstanceOf(UnsupportedSchemaException.class)
                .satisfies(e -> {
                    UnsupportedSchemaException u = (UnsupportedSchemaException) e;
                    assertThat(u.keyword()).isEqualTo(keyword);
                    assertThat(u.pointer()).isEqualTo(pointer == null ? "" : pointer);
                    assertThat(u.getMessage()).contains("'" + keyword + "'");
                });
    }

    @Test
    void annotationsAreIgnored() {
        Grammar g = schema("{'title':'T','description':'d','$schema':'https://json-schema.org/draft/2020-12/schema',"
                + "'type':'boolean','default':true,'examples':[false]}");
        assertThat(accepts(g, "true")).isTrue();
        assertThat(accepts(g, "1")).isFalse();
    }

    @Test
    void integerBoundsAcceptExactlyTheRange() {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(3);
        long[][] ranges = {{0, 0}, {-5, 5}, {1, 9}, {10, 99}, {7, 1234}, {-1234, -7}, {-99, 100}, {0, 100000}, {95, 105}, {-1, 0}};
        for (long[] r : ranges) checkRange(r[0], r[1], rnd);
        for (int i = 0; i < 10; i++) {
            long lo = rnd.nextLong(-100000, 100000);
            checkRange(lo, lo + rnd.nextLong(0, 50000), rnd);
        }
        Grammar exclusive = schema("{'type':'integer','exclusiveMinimum':1.5,'exclusiveMaximum':4}");
        assertThat(accepts(exclusive, "1")).isFalse();
        assertThat(accepts(exclusive, "2")).isTrue();
        assertThat(accepts(exclusive, "3")).isTrue();
        assertThat(accepts(exclusive, "4")).isFalse();
        Grammar min = schema("{'type':'integer','minimum':-3}");
        assertThat(accepts(min, "-3")).isTrue();
        assertThat(accepts(min, "-4")).isFalse();
        assertThat(accepts(min, "9999999999999999")).isTrue();
        assertThat(accepts(min, "-0")).isFalse();
        Grammar max = schema("{'maximum':10}"); // no type: an integer
        assertThat(accepts(max, "-9999999999999999")).isTrue();
        assertThat(accepts(max, "11")).isFalse();
        assertThat(accepts(max, "\"x\"")).isFalse();
    }

    private static void checkRange(long lo, long hi, java.util.SplittableRandom rnd) {
        Grammar g = schema("{'type':'integer','minimum':" + lo + ",'maximum':" + hi + "}");
        java.util.List<Long> probes = new java.util.ArrayList<>();
        for (long v = lo - 30; v <= lo + 30; v++) probes.add(v);
        for (long v = hi - 30; v <= hi + 30; v++) probes.add(v);
        for (int i = 0; i < 200; i++) probes.add(rnd.nextLong(lo - 1000, hi + 1001));
        for (long v : probes) {
            assertThat(accepts(g, Long.toString(v))).as("%d in [%d, %d]", v, lo, hi).isEqualTo(v >= lo && v <= hi);
        }
        assertThat(accepts(g, "0" + Math.max(1, lo))).as("leading zero").isFalse();
        assertThat(accepts(g, "-0")).isFalse();
    }
}
