"""Trial assignments: the brief an editor offers, the applicant's trial piece, the checks on its arrival,
its fact check, the trial rubric and the fee (agreed, invoiced, approved, paid)."""
