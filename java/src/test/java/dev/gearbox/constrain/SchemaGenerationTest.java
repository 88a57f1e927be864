package dev.gearbox.constrain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.Tokenizers;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Property test on real vocabularies: a seeded random "model" generates under a schema's constraint
 * (at each step a random allowed token, biased towards closing and ending so outputs terminate),
 * and every output must be valid UTF-8, parse as JSON and validate against the schema (networknt).
 */
class SchemaGenerationTest {
    static final Path ASSETS = Path.of("target/test-assets");
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);

    static final List<String> SCHEMAS = List.of(
            // object with required and optional properties, additionalProperties false
            "{'type':'object','properties':{'name':{'type':'string','minLength':1,'maxLength':12},'age':{'type':'integer'},"
                    + "'email':{'type':'string'},'tags':{'type':'array','items':{'type':'string','maxLength':8},'maxItems':3},"
                    + "'score':{'type':'number'}},'required':['name','age'],'additionalProperties':false}",
            // nested arrays with min/max items
            "{'type':'array','items':{'type':'array','items':{'type':'number'},'minItems':1,'maxItems':2},'minItems':2,'maxItems':3}",
            // enums and consts
            "{'type':'object','properties':{'status':{'enum':['active','paused','déjà vu',7,null]},'version':{'const':2},"
                    + "'kind':{'const':{'a':[1,'x']}}},'required':['status','version','kind']}",
            // anyOf / oneOf and type arrays
            "{'type':'object','properties':{'v':{'anyOf':[{'type':'string','maxLength':5},{'type':'integer'},"
                    + "{'type':'object','properties':{'k':{'type':'boolean'}},'required':['k']}]},"
                    + "'w':{'oneOf':[{'type':'null'},{'type':'array','items':{'type':'boolean'},'maxItems':2}]},"
                    + "'x':{'type':['string','null']},'y':{'type':['integer','boolean']}},'required':['v','w','x','y']}",
            // a recursive tree through $defs
            "{'$ref':'#/$defs/node','$defs':{'node':{'type':'object','properties':{'value':{'type':'integer'},"
                    + "'children':{'type':'array','items':{'$ref':'#/$defs/node'},'maxItems':2}},'required':['value','children'],"
                    + "'additionalProperties':false}}}",
            // strings with code-point lengths
            "{'type':'array','items':{'type':'string','minLength':3,'maxLength':6},'minItems':1,'maxItems':4}",
            // integers, numbers, booleans, nulls
            "{'type':'object','properties':{'i':{'type':'integer'},'n':{'type':'number'},'b':{'type':'boolean'},"
                    + "'z':{'type':'null'}},'required':['i','n','b','z']}",
            // bounded integers
            "{'type':'object','properties':{'age':{'type':'integer','minimum':0,'maximum':150},"
                    + "'delta':{'type':'integer','exclusiveMinimum':-10,'maximum':-2},'big':{'type':'integer','minimum':1000}},"
                    + "'required':['age','delta','big']}",
            // tuples, definitions, maps
            "{'type':'array','prefixItems':[{'type':'string'},{'$ref':'#/definitions/pt'}],'items':{'type':'integer'},'maxItems':4,"
                    + "'definitions':{'pt':{'type':'object','properties':{'x':{'type':'number'},'y':{'type':'number'}},'required':['x','y']}}}",
            "{'type':'object','additionalProperties':{'type':'integer'}}",
            // free-form values (json_object is the same with an object at the top)
            "{}",
            "{'type':'object','properties':{'meta':{'type':'object'},'list':{'type':'array'}},'required':['meta','list']}");

    record Vocab(Tokenizer tokenizer, TokenVocabulary vocab) {}

    static Vocab load(String name) throws Exception {
        Path p = ASSETS.resolve(name);
        assumeTrue(Files.exists(p), p + " is absent: run scripts/fetch-test-assets.sh to download and convert it");
        try (GGUFFile f = GGUFFile.open(p)) {
            Tokenizer t = Tokenizers.fromGGUF(f);
            return new Vocab(t, TokenVocabulary.of(t));
        }
    }

    @Test
    void qwen3OutputsValidate() throws Exception {
        run(load("qwen3-vocab.gguf"), 6);
    }

    @Test
    void llama3OutputsValidate() throws Exception {
        run(load("llama3-vocab.gguf"), 3);
    }

    @Test
    void anyJsonObjectOutputsAreObjects() throws Exception {
        Vocab v = load("qwen3-vocab.gguf");
        for (long seed = 0; seed < 5; seed++) {
            String out = generate(Grammar.anyJsonObject(), v, seed);
            assertThat(JSON.readTree(out).isObject()).as(out).isTrue();
        }
    }

    @Test
    void requestsSharingAnIndexAcrossThreadsGenerateWhatTheyWouldAlone() throws Exception {
        Vocab v = load("qwen3-vocab.gguf");
        Grammar g = JsonSchemaCompiler.compile(SCHEMAS.get(4).replace('\'', '"'));
        int requests = 8;
        String[] alone = new String[requests];
        for (int i = 0; i < requests; i++) alone[i] = generate(g, v, i);
        ConstraintIndex shared = ConstraintIndex.of(g, v.vocab());
        String[] together = new String[requests];
        List<Thread> threads = new ArrayList<>();
        List<Throwable> errors = java.util.Collections.synchronizedList(new ArrayList<>());
        for (int i = 0; i < requests; i++) {
            int seed = i;
            threads.add(Thread.ofPlatform().start(() -> {
                try {
                    together[seed] = generate(shared.newConstraint(), v, seed);
                } catch (Throwable t) {
                    errors.add(t);
                }
            }));
        }
        for (Thread t : threads) t.join();
        assertThat(errors).isEmpty();
        assertThat(together).containsExactly(alone);
    }

    static void run(Vocab v, int seeds) throws Exception {
        List<String> failures = new ArrayList<>();
        int outputs = 0;
        for (String s : SCHEMAS) {
            String schemaJson = s.replace('\'', '"');
            Grammar g = JsonSchemaCompiler.compile(schemaJson);
            Schema validator = REGISTRY.getSchema(schemaJson);
            for (long seed = 0; seed < seeds; seed++) {
                String out = generate(g, v, seed);
                outputs++;
                try {
                    JSON.readTree(out);
                } catch (Exception e) {
                    failures.add(schemaJson + " seed " + seed + ": not JSON: " + out + " (" + e.getMessage() + ")");
                    continue;
                }
                List<Error> errors = validator.validate(out, InputFormat.JSON);
                if (!errors.isEmpty()) failures.add(schemaJson + " seed " + seed + ": " + out + " -> " + errors);
            }
        }
        assertThat(failures).as("%d outputs", outputs).isEmpty();
        assertThat(outputs).isEqualTo(SCHEMAS.size() * seeds);
    }

    /** One output of the random model under the grammar; fails if it does not end within the step cap. */
    static String generate(Grammar g, Vocab v, long seed) throws CharacterCodingException {
        return generate(new Constraint(g, v.vocab()), v, seed);
    }

    static String generate(Constraint c, Vocab v, long seed) throws CharacterCodingException {
        SplittableRandom rnd = new SplittableRandom(seed * 7919 + 17);
        int n = v.vocab().size();
        long[] bits = new long[(n + 63) / 64];
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int steps = 0;
        while (!c.ended()) {
            assertThat(steps++).as("no end after %d steps: %s", steps, out.toString(StandardCharsets.UTF_8)).isLessThan(800);
            boolean late = steps > 60;
            // The engine's cheap path: try the "model's" token first, mask only when it is rejected.
            int guess = rnd.nextInt(n);
            int token;
            if (!late && c.allows(guess)) {
                token = guess;
            } else {
                c.fillAllowed(bits);
                List<Integer> allowed = new ArrayList<>(), closers = new ArrayList<>(), flat = new ArrayList<>();
                int eog = -1;
                for (int t = 0; t < n; t++) {
                    if ((bits[t >> 6] >>> t & 1) == 0) continue;
                    if (v.vocab().isEndOfGeneration(t)) {
                        eog = t;
                        continue;
                    }
                    allowed.add(t);
                    byte[] b = v.tokenizer().tokenBytes(t);
                    if (isCloser(b)) closers.add(t);
                    if (!contains(b, '[') && !contains(b, '{')) flat.add(t);
                }
                if (rnd.nextInt(16) == 0) checkMaskAgainstAllows(c, bits, rnd, n);
                if (eog >= 0 && (allowed.isEmpty() || rnd.nextDouble() < (late ? 1.0 : 0.5))) {
                    token = eog;
                } else {
                    assertThat(allowed).as("stuck after %s", out.toString(StandardCharsets.UTF_8)).isNotEmpty();
                    List<Integer> pool = allowed;
                    if (!closers.isEmpty() && rnd.nextDouble() < (late ? 0.9 : 0.25)) pool = closers;
                    else if (late && !flat.isEmpty()) pool = flat;
                    token = pool.get(rnd.nextInt(pool.size()));
                }
            }
            c.accept(token);
            if (!v.vocab().isEndOfGeneration(token)) out.writeBytes(v.tokenizer().tokenBytes(token));
        }
        assertThat(c.complete()).isTrue();
        // Strict UTF-8: a character cut between tokens and never finished would fail here.
        return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(out.toByteArray())).toString();
    }

    static void checkMaskAgainstAllows(Constraint c, long[] bits, SplittableRandom rnd, int n) {
        // The split mask (shared context-independent part + rechecked tokens) equals a plain walk.
        assertThat(c.computeMaskPlain()).as("split mask vs plain trie walk").isEqualTo(bits);
        for (int i = 0; i < 3000; i++) {
            int t = rnd.nextInt(n);
            assertThat((bits[t >> 6] >>> t & 1) != 0).as("mask bit of token %d", t).isEqualTo(c.allows(t));
        }
    }

    static boolean isCloser(byte[] b) {
        for (byte x : b) if (x != '"' && x != ']' && x != '}') return false;
        return b.length > 0;
    }

    static boolean contains(byte[] b, char ch) {
        for (byte x : b) if (x == ch) return true;
        return false;
    }
}
