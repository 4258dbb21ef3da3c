"""Template-aware similarity of notebook submissions (``bplab similarity OUT``).

For each question, what each student wrote in that question's cells minus the released
template (``extract``), as normalised tokens and winnowed, stable fingerprints
(``fingerprint``); pairs ranked per question and over the notebook, with the rare diagnoses
both were given (``compare``); written as ``similarity.csv``, a fingerprint store for later
cohorts and exports for JPlag and Dolos (``store``), and HTML pages (``render``). Student code
is read as text and never run. Similarity is evidence for a human to weigh, never a verdict.
"""
