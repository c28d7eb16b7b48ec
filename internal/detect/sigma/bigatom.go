package sigma

// Big atoms. Evaluating a value set whose needles the prefilter searched
// reads whether one of them was found (see atomFlags). For most sets that
// is a look at a few needles, but some sets list hundreds of values (the
// DLL names of side-loading rules): such atoms are marked when one of
// their needles is found instead, so that reading them costs one look too.

// bigAtomMin is the number of needles from which an atom is marked when
// its needles are found rather than looked up when it is read.
const bigAtomMin = 16

// indexBigAtoms numbers the atoms with at least bigAtomMin needles and
// returns, per needle, the marks it sets: from bigBase, twice the atom's
// number, plus one for a required literal (flagMaybe) rather than a
// literal (flagDef).
func (pl *planner) indexBigAtoms() [][]int32 {
	p := pl.p
	p.atomBig = make([]int32, p.nAtoms)
	perNeedle := make([][]int32, p.nNeedles)
	for a := range p.nAtoms {
		p.atomBig[a] = -1
		lo, mid, hi := p.atomStart[a], p.atomMaybe[a], p.atomStart[a+1]
		if hi-lo < bigAtomMin {
			continue
		}
		b := int32(p.nBig)
		p.nBig++
		p.atomBig[a] = b
		for i, n := range p.atomNeedles[lo:hi] {
			mark := p.bigBase + 2*b
			if lo+int32(i) >= mid {
				mark++
			}
			perNeedle[n] = append(perNeedle[n], mark)
		}
	}
	return perNeedle
}

// atomFlags returns flagDef when one of atom a's literals was found, else
// flagMaybe when one of its required literals was, else 0.
func (st *evalState) atomFlags(a int32) uint32 {
	p := st.p
	if b := p.atomBig[a]; b >= 0 {
		m := p.bigBase + 2*b
		switch st.mgen {
		case st.markGen[m]:
			return flagDef
		case st.markGen[m+1]:
			return flagMaybe
		}
		return 0
	}
	lo, mid, hi := p.atomStart[a], p.atomMaybe[a], p.atomStart[a+1]
	for _, n := range p.atomNeedles[lo:mid] {
		if st.needleGen[n] == st.mgen {
			return flagDef
		}
	}
	for _, n := range p.atomNeedles[mid:hi] {
		if st.needleGen[n] == st.mgen {
			return flagMaybe
		}
	}
	return 0
}
