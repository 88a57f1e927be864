package dev.gearbox.calibrate;

import org.junit.jupiter.api.Test;

import java.math.BigDecimal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GraderTest {

    @Test
    void exactComparesTrimmedText() {
        assertThat(Grader.matches("  abc \n", "abc", GradeMode.EXACT)).isTrue();
        assertThat(Grader.matches("abcd", "abc", GradeMode.EXACT)).isFalse();
        assertThat(Grader.matches("ABC", "abc", GradeMode.EXACT)).isFalse();
    }

    @Test
    void numericTakesTheLastNumberOfTheAnswer() {
        assertThat(Grader.matches("16 - 3 - 4 = 9, 9 * 2 = 18", "18", GradeMode.NUMERIC)).isTrue();
        assertThat(Grader.matches("18 dollars, not 17", "18", GradeMode.NUMERIC)).isFalse();
        assertThat(Grader.matches("$1,200.", "1200", GradeMode.NUMERIC)).isTrue();
        assertThat(Grader.matches("7.0", "7", GradeMode.NUMERIC)).isTrue();
        assertThat(Grader.matches("-5", "-5", GradeMode.NUMERIC)).isTrue();
        assertThat(Grader.matches("5", "-5", GradeMode.NUMERIC)).isFalse();
        assertThat(Grader.matches("no idea", "5", GradeMode.NUMERIC)).isFalse();
        assertThat(Grader.lastNumber("1,2,3")).isEqualTo(new BigDecimal("3"));
        assertThat(Grader.referenceNumber("$2.50")).isEqualTo(new BigDecimal("2.50"));
        assertThat(Grader.referenceNumber("two")).isNull();
    }

    @Test
    void containsIgnoresCase() {
        assertThat(Grader.matches("The capital is Paris.", " paris ", GradeMode.CONTAINS)).isTrue();
        assertThat(Grader.matches("Lyon", "Paris", GradeMode.CONTAINS)).isFalse();
    }

    @Test
    void rowsWithoutReferenceAgreeWithTheLargestTier() {
        TaskRow open = TaskRow.plain("x", "write", null, GradeMode.EXACT);
        assertThat(Grader.correct(open, " a  b ", "a b")).isTrue();
        assertThat(Grader.correct(open, "a c", "a b")).isFalse();
        assertThatThrownBy(() -> Grader.correct(open, "a", null)).hasMessageContaining("no reference");
        TaskRow ref = TaskRow.plain("y", "p", "42", GradeMode.NUMERIC);
        assertThat(Grader.correct(ref, "42", "41")).isTrue(); // the reference wins over agreement
    }
}
