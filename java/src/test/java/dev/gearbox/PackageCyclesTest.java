package dev.gearbox;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Guards the house rule that data flows one way through the packages: no two packages of
 * {@code dev.gearbox} may reach each other through their dependencies. Reads the main sources'
 * imports and fully qualified references (a qualified name in a method body is a dependency
 * too), and reports each cycle with one file per edge, so a failure says where to move code.
 */
class PackageCyclesTest {
    private static final Path MAIN = Path.of("java/src/main/java");
    private static final Pattern PACKAGE = Pattern.compile("^package\\s+([\\w.]+);", Pattern.MULTILINE);
    /** dev.gearbox.a.b.Type (import or qualified use): the package is the part before the first capitalised name. */
    private static final Pattern REFERENCE = Pattern.compile("\\b(dev\\.gearbox(?:\\.[a-z]\\w*)+)\\.[A-Z]");

    @Test
    void packagesDoNotDependOnEachOtherInCycles() throws IOException {
        Map<String, Map<String, String>> edges = edges();   // from -> (to -> a file that makes the edge)
        assertThat(edges).as("packages found under " + MAIN.toAbsolutePath()).hasSizeGreaterThan(10);
        List<String> cycles = new ArrayList<>();
        for (Set<String> scc : stronglyConnected(edges)) {
            if (scc.size() < 2) continue;
            StringBuilder sb = new StringBuilder(String.join(" <-> ", scc)).append(":");
            for (String from : scc) {
                for (var e : edges.getOrDefault(from, Map.of()).entrySet()) {
                    if (scc.contains(e.getKey())) sb.append("\n    ").append(from).append(" -> ").append(e.getKey()).append(" (").append(e.getValue()).append(")");
                }
            }
            cycles.add(sb.toString());
        }
        assertThat(cycles).as("package cycles (mend them by moving code, not by adding interfaces)").isEmpty();
    }

    @Test
    void theCheckFindsACycleWhenThereIsOne() {
        Map<String, Map<String, String>> edges = new TreeMap<>();
        edges.put("a", Map.of("b", "A.java"));
        edges.put("b", Map.of("c", "B.java"));
        edges.put("c", Map.of("a", "C.java"));
        edges.put("d", Map.of("a", "D.java"));
        assertThat(stronglyConnected(edges)).anySatisfy(s -> assertThat(s).containsExactly("a", "b", "c"));
    }

    private static Map<String, Map<String, String>> edges() throws IOException {
        Map<String, Map<String, String>> edges = new TreeMap<>();
        try (Stream<Path> files = Files.walk(MAIN)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String src = Files.readString(f);
                Matcher pm = PACKAGE.matcher(src);
                if (!pm.find()) continue;
                String pkg = pm.group(1);
                edges.computeIfAbsent(pkg, k -> new TreeMap<>());
                Matcher m = REFERENCE.matcher(src);
                while (m.find()) {
                    String to = m.group(1);
                    if (!to.equals(pkg)) edges.get(pkg).putIfAbsent(to, MAIN.relativize(f).toString());
                }
            }
        }
        return edges;
    }

    /** Tarjan's strongly connected components; each component's names sorted. */
    static List<Set<String>> stronglyConnected(Map<String, Map<String, String>> edges) {
        Map<String, Integer> index = new HashMap<>(), low = new HashMap<>();
        Deque<String> stack = new ArrayDeque<>();
        Set<String> onStack = new TreeSet<>();
        List<Set<String>> out = new ArrayList<>();
        int[] counter = {0};
        for (String v : edges.keySet()) {
            if (!index.containsKey(v)) visit(v, edges, index, low, stack, onStack, out, counter);
        }
        return out;
    }

    private static void visit(String v, Map<String, Map<String, String>> edges, Map<String, Integer> index, Map<String, Integer> low,
                              Deque<String> stack, Set<String> onStack, List<Set<String>> out, int[] counter) {
        index.put(v, counter[0]);
        low.put(v, counter[0]++);
        stack.push(v);
        onStack.add(v);
        for (String w : edges.getOrDefault(v, Map.of()).keySet()) {
            if (!index.containsKey(w)) {
                visit(w, edges, index, low, stack, onStack, out, counter);
                low.put(v, Math.min(low.get(v), low.get(w)));
            } else if (onStack.contains(w)) {
                low.put(v, Math.min(low.get(v), index.get(w)));
            }
        }
        if (low.get(v).equals(index.get(v))) {
            Set<String> scc = new TreeSet<>();
            String w;
            do {
                w = stack.pop();
                onStack.remove(w);
                scc.add(w);
            } while (!w.equals(v));
            out.add(scc);
        }
    }
}
