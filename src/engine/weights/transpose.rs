//! Matrix transpose for the Hub's Conv1D weights (stored `[in, out]`, used `[out, in]`).
//! Tiled: the plain loop writes each value to a different cache line (a column of the output
//! is a stride of a whole row apart), which made transposing most of the time spent turning a
//! Hub checkpoint into q8_0; tiles of `TILE`×`TILE` keep both the rows read and the rows
//! written in cache.

/// Tile side, in values: 32 rows of 32 f32 are 4 KiB read and 4 KiB written per tile.
const TILE: usize = 32;

/// `[rows, cols]` row-major `src` to `[cols, rows]`.
pub fn transpose(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    assert_eq!(src.len(), rows * cols, "transpose: {rows}×{cols} needs {} values, got {}", rows * cols, src.len());
    let mut out = vec![0f32; src.len()];
    for r0 in (0..rows).step_by(TILE) {
        let r1 = (r0 + TILE).min(rows);
        for c0 in (0..cols).step_by(TILE) {
            let c1 = (c0 + TILE).min(cols);
            for r in r0..r1 {
                let row = &src[r * cols..][c0..c1];
                for (c, &v) in (c0..c1).zip(row) {
                    out[c * rows + r] = v;
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::transpose;

    /// The definition, element by element: the oracle for the tiled walk.
    fn plain(src: &[f32], rows: usize, cols: usize) -> Vec<f32> {
        let mut out = vec![0f32; src.len()];
        for r in 0..rows {
            for c in 0..cols {
                out[c * rows + r] = src[r * cols + c];
            }
        }
        out
    }

    #[test]
    fn same_as_the_definition_on_ragged_tiles() {
        // Sizes below, at and across the tile side, so partial tiles on either edge are walked.
        for (rows, cols) in [(1, 1), (1, 70), (70, 1), (31, 33), (32, 32), (64, 96), (65, 97), (100, 3)] {
            let src: Vec<f32> = (0..rows * cols).map(|i| i as f32 * 0.5 - 7.0).collect();
            assert_eq!(transpose(&src, rows, cols), plain(&src, rows, cols), "{rows}×{cols}");
        }
    }

    #[test]
    fn twice_is_the_identity() {
        let src: Vec<f32> = (0..50 * 77).map(|i| (i * 31 % 101) as f32).collect();
        assert_eq!(transpose(&transpose(&src, 50, 77), 77, 50), src);
    }
}
