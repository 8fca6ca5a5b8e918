"""Textbook identities: each expression with the closed form a book gives for it, in jacli's
notation, to measure jacli's closed forms against (tests/test_textbook.py checks that they
agree in number; benchmarks/textbook.py counts how many jacli prints no longer than the book).

Kinds: "gradient" (∂f/∂X shaped like X, the Matrix Cookbook's layout, for a scalar f) and
"jacobian" (d vec F / d vec X). Sources: the Matrix Cookbook (Petersen & Pedersen, 2012;
equation numbers), Magnus & Neudecker (3rd ed., chapter), matrixcalculus.org's examples.
"""

GRADIENTS = [
    ("tr(A X) wrt X", dict(A=(3, 4), X=(4, 3)), "Aᵀ", "Cookbook (100)"),
    ("tr(X A) wrt X", dict(A=(3, 4), X=(4, 3)), "Aᵀ", "Cookbook (100)"),
    ("tr(A X B) wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 2)), "Aᵀ Bᵀ", "Cookbook (101)"),
    ("tr(A X' B) wrt X", dict(A=(2, 3), X=(4, 3), B=(4, 2)), "B A", "Cookbook (102)"),
    ("tr(X' A) wrt X", dict(A=(3, 4), X=(3, 4)), "A", "Cookbook (103)"),
    ("tr(X' A X) wrt X", dict(A=(3, 3), X=(3, 4)), "(A + Aᵀ) X", "Cookbook (117)"),
    ("tr(X B X') wrt X", dict(B=(4, 4), X=(3, 4)), "X (B + Bᵀ)", "Cookbook (116)"),
    ("tr(X' X) wrt X", dict(X=(3, 4)), "2 X", "Cookbook (113)"),
    ("tr(X X) wrt X", dict(X=(3, 3)), "2 Xᵀ", "Cookbook (110)"),
    ("tr(A X' B X) wrt X", dict(A=(4, 4), B=(3, 3), X=(3, 4)), "B X A + Bᵀ X Aᵀ", "Cookbook (118)"),
    ("tr(A inv(X) B) wrt X", dict(A=(2, 3), X=(3, 3), B=(3, 2)), "-(X⁻¹ B A X⁻¹)ᵀ", "Cookbook (124)"),
    ("det(X) wrt X", dict(X=(3, 3)), "det(X) X⁻ᵀ", "Cookbook (49)"),
    ("log(det(X)) wrt X", dict(X=(3, 3)), "X⁻ᵀ", "Cookbook (51)"),
    ("logdet(X) wrt X", dict(X=(3, 3)), "X⁻ᵀ", "Cookbook (57)"),
    ("log(det(inv(X))) wrt X", dict(X=(3, 3)), "-X⁻ᵀ", "matrixcalculus.org"),
    ("det(X)^-1 wrt X", dict(X=(3, 3)), "-det(X)⁻¹ X⁻ᵀ", "Cookbook (49) and the chain rule"),
    ("det(A X B) wrt X", dict(A=(3, 3), X=(3, 3), B=(3, 3)), "det(A X B) X⁻ᵀ", "Cookbook (50)"),
    ("a' X b wrt X", dict(a=(3, 1), X=(3, 4), b=(4, 1)), "a bᵀ", "Cookbook (70)"),
    ("a' X' b wrt X", dict(a=(4, 1), X=(3, 4), b=(3, 1)), "b aᵀ", "Cookbook (71)"),
    ("a' X a wrt X", dict(a=(3, 1), X=(3, 3)), "a aᵀ", "Cookbook (72)"),
    ("b' X' X c wrt X", dict(b=(4, 1), X=(3, 4), c=(4, 1)), "X (b cᵀ + c bᵀ)", "Cookbook (77)"),
    ("a' x wrt x", dict(a=(3, 1), x=(3, 1)), "a", "Cookbook (69)"),
    ("x' x wrt x", dict(x=(3, 1)), "2 x", "Cookbook (81), A = I"),
    ("x' A x wrt x", dict(A=(3, 3), x=(3, 1)), "(A + Aᵀ) x", "Cookbook (81)"),
    ("(A x - b)' (A x - b) wrt x", dict(A=(4, 3), x=(3, 1), b=(4, 1)), "2 Aᵀ (A x - b)", "Cookbook (84)"),
    ("(x - s)' W (x - s) wrt s", dict(x=(3, 1), s=(3, 1), W=(3, 3)), "-(W + Wᵀ) (x - s)", "Cookbook (87)"),
    ("sum(exp(W x)) wrt W", dict(W=(2, 3), x=(3, 1)), "exp(W x) xᵀ", "matrixcalculus.org"),
    ("sum(exp(x)) wrt x", dict(x=(3, 1)), "exp(x)", "matrixcalculus.org"),
    (
        "a' tanh(W x) wrt W",
        dict(a=(2, 1), W=(2, 3), x=(3, 1)),
        "(a ∘ (ones(2,1) - tanh(W x) ∘ tanh(W x))) xᵀ",
        "chain rule, tanh' = 1 - tanh²",
    ),
    (
        "tr(A X' B X C) wrt X",
        dict(A=(3, 3), B=(2, 2), C=(3, 3), X=(2, 3)),
        "B X C A + Bᵀ X Aᵀ Cᵀ",
        "matrixcalculus.org",
    ),
    (
        "-0.5 logdet(S) - 0.5 (x - m)' inv(S) (x - m) wrt m",
        dict(S=(3, 3), x=(3, 1), m=(3, 1)),
        "0.5 (S⁻¹ + S⁻ᵀ) (x - m)",  # the Cookbook writes S⁻¹ (x - m) for a symmetric S
        "Cookbook (85), the Gaussian log-likelihood",
    ),
    (
        "-0.5 logdet(S) - 0.5 (x - m)' inv(S) (x - m) wrt S",
        dict(S=(3, 3), x=(3, 1), m=(3, 1)),
        "0.5 (S⁻ᵀ (x - m) (x - m)ᵀ S⁻ᵀ - S⁻ᵀ)",
        "Cookbook (57), (61), the Gaussian log-likelihood",
    ),
    (
        "sum(log(ones + exp(-(y ∘ (X w))))) wrt w",
        dict(X=(4, 3), w=(3, 1), y=(4, 1)),
        "-Xᵀ (y ∘ exp(-(y ∘ (X w))) ./ (ones(4,1) + exp(-(y ∘ (X w)))))",
        "the logistic loss",
    ),
]

JACOBIANS = [
    ("A X B wrt X", dict(A=(2, 3), X=(3, 4), B=(4, 5)), "Bᵀ ⊗ A", "M&N ch. 2; the seeds"),
    ("W a wrt W", dict(W=(3, 4), a=(4, 1)), "aᵀ ⊗ I₃", "the seeds"),
    ("X Y wrt X", dict(X=(3, 4), Y=(4, 5)), "Yᵀ ⊗ I₃", "the seeds"),
    ("X Y wrt Y", dict(X=(3, 4), Y=(4, 5)), "I₅ ⊗ X", "the seeds"),
    ("X' wrt X", dict(X=(3, 4)), "K(3,4)", "M&N ch. 3; the seeds"),
    ("kron(A, B) wrt A", dict(A=(2, 3), B=(4, 5)), "(I₃ ⊗ K(5,2) ⊗ I₄) (I₆ ⊗ vec(B))", "M&N ch. 3; the seeds"),
    ("inv(X) wrt X", dict(X=(3, 3)), "-(X⁻ᵀ ⊗ X⁻¹)", "M&N ch. 8"),
    ("X^2 wrt X", dict(X=(3, 3)), "Xᵀ ⊗ I₃ + I₃ ⊗ X", "M&N ch. 8"),
    ("X' X wrt X", dict(X=(4, 3)), "(Xᵀ ⊗ I₃) K(4,3) + I₃ ⊗ Xᵀ", "M&N ch. 9"),
    ("exp(X) wrt X", dict(X=(3, 4)), "diag(vec(exp(X)))", "M&N ch. 9"),
    ("X ∘ A wrt X", dict(X=(3, 4), A=(3, 4)), "diag(vec(A))", "M&N ch. 3"),
    ("A inv(X) B wrt X", dict(A=(2, 3), X=(3, 3), B=(3, 4)), "-((X⁻¹ B)ᵀ ⊗ (A X⁻¹))", "M&N ch. 8"),
    ("tanh(A x) wrt x", dict(A=(3, 2), x=(2, 1)), "diag(ones(3,1) - tanh(A x) ∘ tanh(A x)) A", "chain rule"),
    ("exp(x) wrt x", dict(x=(3, 1)), "diag(exp(x))", "M&N ch. 9"),
    ("W a wrt W --vec row", dict(W=(3, 4), a=(4, 1)), "I₃ ⊗ aᵀ", "row-major vec"),
]
